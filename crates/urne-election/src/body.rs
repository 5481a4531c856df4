//! The bodies of the election's own record kinds (spec/23-election-records.md §23.2):
//! the manifest record, a cast ballot, an audited ballot and a round closing. The
//! ceremony, credential-list and tally bodies are their domain crates' encodings.
//!
//! Every body starts with a version byte; a decoder refuses another version, a field
//! that runs past the end, and any trailing byte, naming the field.

use sha2::{Digest, Sha256};
use urne_ballot::{AuditedBallot, Ballot, Manifest, TrackingCode};
use urne_credential::BallotSignature;

use crate::anonymous::{ANONYMOUS_VERSION, Eligibility, decode_eligibility};
use crate::error::ElectionError;
use crate::kinds;

/// Version byte of every body of this page.
pub const BODY_VERSION: u8 = 1;

/// Label of the parameters hash that `context.open` carries for an election.
pub const PARAMETERS_LABEL: &[u8] = b"urne/v1/election/parameters\n";

fn name(kind: urne_record::Kind) -> &'static str {
    kinds::name(kind).unwrap_or("election record")
}

pub(crate) struct Reader<'a> {
    kind: &'static str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(kind: urne_record::Kind, bytes: &'a [u8]) -> Result<Self, ElectionError> {
        Self::with_version(kind, bytes, BODY_VERSION)
    }

    /// A reader past the version byte, which must be `version`.
    pub(crate) fn with_version(
        kind: urne_record::Kind,
        bytes: &'a [u8],
        version: u8,
    ) -> Result<Self, ElectionError> {
        Self::with_versions(kind, bytes, &[version])
    }

    /// A reader past the version byte, which must be one of `versions`.
    fn with_versions(
        kind: urne_record::Kind,
        bytes: &'a [u8],
        versions: &[u8],
    ) -> Result<Self, ElectionError> {
        let kind = name(kind);
        match bytes.first() {
            None => Err(ElectionError::invalid(
                kind,
                "body.version",
                "the body is empty",
            )),
            Some(v) if versions.contains(v) => Ok(Self { kind, bytes, at: 1 }),
            Some(v) => Err(ElectionError::invalid(
                kind,
                "body.version",
                format!(
                    "version {v} is not {}",
                    versions
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )),
        }
    }

    pub(crate) fn u32(&mut self, field: &str) -> Result<u32, ElectionError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], ElectionError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(ElectionError::invalid(
                self.kind,
                field,
                "the body ends inside this field",
            ));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    pub(crate) fn sized(&mut self, field: &str) -> Result<&'a [u8], ElectionError> {
        let len = self.take(4, &format!("{field}_length"))?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        self.take(len as usize, field)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.at..];
        self.at = self.bytes.len();
        out
    }

    pub(crate) fn end(&self) -> Result<(), ElectionError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(ElectionError::invalid(
                self.kind,
                "body.end",
                format!("{} bytes after the last field", self.bytes.len() - self.at),
            ))
        }
    }
}

pub(crate) fn sized(out: &mut Vec<u8>, bytes: &[u8]) {
    // Bodies are bounded by the 65,535-byte record: the length always fits.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// `election.manifest` (spec/23 §23.2): version 0x01 ‖ the manifest's canonical bytes
/// (spec/21 §21.1) for a pseudonymous election; version 0x02 ‖ the eligibility
/// ([`Eligibility`]) ‖ the manifest's bytes for an anonymous one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestRecord {
    /// The manifest.
    pub manifest: Manifest,
    /// Where the voters come from: None for a pseudonymous credential list (spec/22),
    /// Some for a registry snapshot's wallet keys (spec/23 §23.9).
    pub eligibility: Option<Eligibility>,
}

impl ManifestRecord {
    /// The body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = match &self.eligibility {
            None => vec![BODY_VERSION],
            Some(eligibility) => {
                let mut out = vec![ANONYMOUS_VERSION];
                out.extend_from_slice(&eligibility.to_bytes());
                out
            }
        };
        out.extend_from_slice(&self.manifest.to_bytes());
        out
    }

    /// Decodes strictly (the manifest's own decoder refuses trailing bytes).
    pub fn decode(body: &[u8]) -> Result<Self, ElectionError> {
        let mut r = Reader::with_versions(
            kinds::ELECTION_MANIFEST,
            body,
            &[BODY_VERSION, ANONYMOUS_VERSION],
        )?;
        let eligibility = if body[0] == ANONYMOUS_VERSION {
            Some(decode_eligibility(&mut r)?)
        } else {
            None
        };
        let bytes = r.rest();
        let manifest = Manifest::decode(bytes).map_err(|e| {
            ElectionError::invalid(
                "election.manifest",
                format!("body.manifest.{}", e.field()),
                e.to_string(),
            )
        })?;
        Ok(Self {
            manifest,
            eligibility,
        })
    }

    /// The parameters hash the election's `context.open` must carry:
    /// SHA-256(PARAMETERS_LABEL ‖ this record's body). The authority commits to the
    /// manifest when it opens the election, so the manifest later posted cannot be
    /// another one.
    pub fn parameters_hash(&self) -> [u8; 32] {
        parameters_hash(&self.to_body())
    }
}

/// SHA-256(PARAMETERS_LABEL ‖ manifest record body) (spec/23 §23.3).
pub fn parameters_hash(manifest_body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PARAMETERS_LABEL);
    h.update(manifest_body);
    h.finalize().into()
}

/// Bytes of a `ballot.cast` body besides the ballot: version, the ballot's u32 length and
/// the credential's signature (spec/23).
pub const CAST_BODY_OVERHEAD: usize = 1 + 4 + BallotSignature::LEN;

/// `ballot.cast`: version ‖ u32 length ‖ ballot bytes (spec/21 §21.5) ‖ the credential's
/// signature (spec/22 §22.4, 65 bytes) over the ballot's tracking code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CastBallot {
    /// The ballot.
    pub ballot: Ballot,
    /// Its bytes as cast (what the tracking code hashes).
    ballot_bytes: Vec<u8>,
    /// Their tracking code, hashed once: the board's precheck, check and diagnosis all
    /// read it (a SHA-256 pass over kilobytes each time otherwise).
    tracking: TrackingCode,
    /// Its credential's signature.
    pub signature: BallotSignature,
}

impl CastBallot {
    /// A cast ballot from a ballot and its signature.
    pub fn new(ballot: Ballot, signature: BallotSignature) -> Self {
        let ballot_bytes = ballot.to_bytes();
        Self {
            tracking: TrackingCode::of_bytes(&ballot_bytes),
            ballot_bytes,
            ballot,
            signature,
        }
    }

    /// The ballot's bytes as cast.
    pub fn ballot_bytes(&self) -> &[u8] {
        &self.ballot_bytes
    }

    /// The ballot digest its signature signs: its tracking code (spec/21 §21.7).
    pub fn tracking_code(&self) -> TrackingCode {
        self.tracking
    }

    /// The body.
    pub fn to_body(&self) -> Vec<u8> {
        let signature = self.signature.to_bytes();
        let mut out = Vec::with_capacity(CAST_BODY_OVERHEAD + self.ballot_bytes.len());
        out.push(BODY_VERSION);
        sized(&mut out, &self.ballot_bytes);
        out.extend_from_slice(&signature);
        out
    }

    /// Decodes strictly.
    pub fn decode(body: &[u8]) -> Result<Self, ElectionError> {
        let mut r = Reader::new(kinds::BALLOT_CAST, body)?;
        let ballot_bytes = r.sized("body.ballot")?;
        let ballot = Ballot::decode(ballot_bytes).map_err(|e| {
            ElectionError::invalid(
                "ballot.cast",
                format!("body.ballot.{}", e.field()),
                e.to_string(),
            )
        })?;
        let signature = BallotSignature::decode(r.take(BallotSignature::LEN, "body.signature")?)
            .map_err(|e| ElectionError::invalid("ballot.cast", "body.signature", e.to_string()))?;
        r.end()?;
        Ok(Self {
            ballot,
            tracking: TrackingCode::of_bytes(ballot_bytes),
            ballot_bytes: ballot_bytes.to_vec(),
            signature,
        })
    }
}

/// The tracking code of a `ballot.cast` or `ballot.audit` body (either version: both
/// start with version ‖ L ‖ ballot) without decoding its ballot: SHA-256(TRACKING_CODE ‖ the ballot bytes it carries).
pub fn tracking_code_of_body(
    kind: urne_record::Kind,
    body: &[u8],
) -> Result<TrackingCode, ElectionError> {
    let mut r = Reader::with_versions(kind, body, &[BODY_VERSION, ANONYMOUS_VERSION])?;
    Ok(TrackingCode::of_bytes(r.sized("body.ballot")?))
}

/// `ballot.audit`: version ‖ u32 length ‖ ballot bytes ‖ the credential's signature
/// (spec/22 §22.4, 65 bytes) over the ballot's tracking code ‖ the opening (spec/21 §21.8
/// encoding, to the end of the body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// The spoiled ballot.
    pub ballot: Ballot,
    /// Its bytes as posted.
    ballot_bytes: Vec<u8>,
    /// Their tracking code, hashed once (precheck and check both read it).
    tracking: TrackingCode,
    /// Its credential's signature over its tracking code: only the credential's holder
    /// may spend the credential's few audits (spec/23 §23.7).
    pub signature: BallotSignature,
    /// What its device says it encrypts, with the nonces.
    pub opening: AuditedBallot,
}

impl AuditRecord {
    /// An audit record of a ballot, its credential's signature and its opening.
    pub fn new(ballot: Ballot, signature: BallotSignature, opening: AuditedBallot) -> Self {
        let ballot_bytes = ballot.to_bytes();
        Self {
            tracking: TrackingCode::of_bytes(&ballot_bytes),
            ballot_bytes,
            ballot,
            signature,
            opening,
        }
    }

    /// The spoiled ballot's bytes as posted.
    pub fn ballot_bytes(&self) -> &[u8] {
        &self.ballot_bytes
    }

    /// The spoiled ballot's tracking code (what the signature signs).
    pub fn tracking_code(&self) -> TrackingCode {
        self.tracking
    }

    /// The body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        sized(&mut out, &self.ballot_bytes);
        out.extend_from_slice(&self.signature.to_bytes());
        out.extend_from_slice(&self.opening.to_bytes());
        out
    }

    /// Decodes strictly.
    pub fn decode(body: &[u8]) -> Result<Self, ElectionError> {
        let mut r = Reader::new(kinds::BALLOT_AUDIT, body)?;
        let ballot_bytes = r.sized("body.ballot")?;
        let ballot = Ballot::decode(ballot_bytes).map_err(|e| {
            ElectionError::invalid(
                "ballot.audit",
                format!("body.ballot.{}", e.field()),
                e.to_string(),
            )
        })?;
        let signature = BallotSignature::decode(r.take(BallotSignature::LEN, "body.signature")?)
            .map_err(|e| ElectionError::invalid("ballot.audit", "body.signature", e.to_string()))?;
        let opening = AuditedBallot::decode(r.rest()).map_err(|e| {
            ElectionError::invalid(
                "ballot.audit",
                format!("body.opening.{}", e.field()),
                e.to_string(),
            )
        })?;
        Ok(Self {
            ballot,
            tracking: TrackingCode::of_bytes(ballot_bytes),
            ballot_bytes: ballot_bytes.to_vec(),
            signature,
            opening,
        })
    }
}

/// The ballot bytes a `ballot.cast` or `ballot.audit` body carries, and what they name
/// (spec/21 §21.5), read without decoding the ballot: for bodies decoded strictly when
/// the record was checked (`urne_ballot::Ballot::skim`).
pub fn skim_ballot_of_body(
    kind: urne_record::Kind,
    body: &[u8],
) -> Result<urne_ballot::BallotSkim, ElectionError> {
    let mut r = Reader::with_versions(kind, body, &[BODY_VERSION, ANONYMOUS_VERSION])?;
    Ballot::skim(r.sized("body.ballot")?).ok_or_else(|| {
        ElectionError::invalid(
            name(kind),
            "body.ballot",
            "the ballot's layout does not read",
        )
    })
}

/// `ceremony.close-round`: version ‖ the round closed (u8, 2..=6). The authority ends
/// a round some trustee left unfinished; its absent trustees are then judged by
/// spec/20 §20.6 (a dealer who did not post is disqualified).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseRound {
    /// The round being closed: it must be the current one.
    pub round: u8,
}

impl CloseRound {
    /// The body.
    pub fn to_body(self) -> Vec<u8> {
        vec![BODY_VERSION, self.round]
    }

    /// Decodes strictly.
    pub fn decode(body: &[u8]) -> Result<Self, ElectionError> {
        let mut r = Reader::new(kinds::CEREMONY_CLOSE_ROUND, body)?;
        let round = r.take(1, "body.round")?[0];
        r.end()?;
        Ok(Self { round })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use urne_ballot::{Contest, ContestKind};

    /// The manifest of spec/21 §21.3's example.
    fn manifest() -> Manifest {
        Manifest::new(
            "T",
            vec![
                Contest {
                    title: "Q".into(),
                    kind: ContestKind::SingleChoice,
                    blank: true,
                    options: vec!["a".into(), "b".into()],
                },
                Contest {
                    title: "R".into(),
                    kind: ContestKind::Approval { min: 0, max: 2 },
                    blank: false,
                    options: vec!["x".into(), "y".into(), "z".into()],
                },
            ],
        )
        .unwrap()
    }

    /// Golden values recomputed from spec/23 §23.2 alone (with Python's hashlib), so code
    /// and spec cannot drift apart.
    #[test]
    fn manifest_body_and_parameters_hash_match_the_spec() {
        let record = ManifestRecord {
            manifest: manifest(),
            eligibility: None,
        };
        let body = record.to_body();
        assert_eq!(
            urne_crypto::encoding::to_hex(&body),
            "0101000154000200015101010002000161000162000152020000000200000300017800017900017a"
        );
        assert_eq!(
            urne_crypto::encoding::to_hex(&record.parameters_hash()),
            "41da3d0c89d2856c8fc0991ee55f8c09626bfb3c6fe1605be2042775df77f5d7"
        );
        assert_eq!(ManifestRecord::decode(&body).unwrap(), record);
    }

    /// A version-2 body (spec/23 §23.2's example), recomputed from the spec alone with
    /// Python's hashlib: buckets of 2^12, 2 registered keys, snapshot 3 or later,
    /// registry 0x07…, one registrar (the Ed25519 base point's encoding), k = 1.
    #[test]
    fn an_anonymous_manifest_body_and_its_parameters_hash_match_the_spec() {
        let mut base = [0x66u8; 32];
        base[0] = 0x58;
        let registrars = urne_credential::registry::Registrars::new(
            1,
            vec![ed25519_dalek::VerifyingKey::from_bytes(&base).unwrap()],
        )
        .unwrap();
        let record = ManifestRecord {
            manifest: manifest(),
            eligibility: Some(Eligibility {
                min_bucket_bits: 12,
                min_real_keys: 2,
                min_snapshot: 3,
                registry: [7; 32],
                registrars,
            }),
        };
        let body = record.to_body();
        assert_eq!(
            urne_crypto::encoding::to_hex(&body),
            "02010c000000020000000307070707070707070707070707070707070707070707070707070707070707070023010101586666666666666666666666666666666666666666666666666666666666666601000154000200015101010002000161000162000152020000000200000300017800017900017a"
        );
        assert_eq!(
            urne_crypto::encoding::to_hex(&record.parameters_hash()),
            "9e82659424384ec7f3009b647234010d8598674272b862bc1beed65e6ebeaf62"
        );
        assert_eq!(ManifestRecord::decode(&body).unwrap(), record);
    }

    #[test]
    fn bodies_with_another_version_a_cut_field_or_trailing_bytes_are_refused() {
        let record = ManifestRecord {
            manifest: manifest(),
            eligibility: None,
        };
        let mut body = record.to_body();
        body[0] = 3;
        assert_eq!(
            ManifestRecord::decode(&body).unwrap_err().field(),
            "body.version"
        );
        let mut body = record.to_body();
        body.push(0);
        assert!(
            ManifestRecord::decode(&body)
                .unwrap_err()
                .field()
                .starts_with("body.manifest")
        );
        assert_eq!(CloseRound { round: 5 }.to_body(), vec![1, 5]);
        assert_eq!(CloseRound::decode(&[1, 5]).unwrap().round, 5);
        assert_eq!(CloseRound::decode(&[1]).unwrap_err().field(), "body.round");
        assert_eq!(
            CloseRound::decode(&[1, 5, 0]).unwrap_err().field(),
            "body.end"
        );
        assert_eq!(CloseRound::decode(&[]).unwrap_err().field(), "body.version");
        // A cast body whose ballot length runs past the end.
        assert_eq!(
            CastBallot::decode(&[1, 0, 0, 0, 9, 1]).unwrap_err().field(),
            "body.ballot"
        );
        assert_eq!(
            CastBallot::decode(&[1, 0, 0]).unwrap_err().field(),
            "body.ballot_length"
        );
    }
}
