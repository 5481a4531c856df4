//! Anonymous eligibility (spec/23 §23.11–§23.13): an election whose voters are the wallet
//! keys of a cosigned registry snapshot (spec/31) instead of a pseudonymous credential
//! list (spec/22). A ballot carries a Triptych signature (spec/08) over one bucket of the
//! snapshot; its tag J = r⁻¹·U, with U = linking_base(snapshot id, election context id),
//! stands where the credential stands: it is the ballot's credential field, so every
//! ballot proof binds it, and the key of "the latest ballot per credential counts" and of
//! the audit quota. One tag per person per election, unlinkable across elections and
//! petitions.
//!
//! What is here: the manifest record's eligibility prefix, the version-2 cast and audit
//! bodies, the bytes a signature binds, the voter's tag and signing. The checks against
//! an election's sealed snapshot are the fold's (crate::state).

use curve25519_dalek::ristretto::RistrettoPoint;
use rand_core::CryptoRng;
use urne_ballot::{AuditedBallot, Ballot, CredentialKey, TrackingCode};
use urne_credential::Decision;
use urne_credential::registry::{Position, Registrars, Snapshot, SnapshotPolicy};
use urne_crypto::SecretScalar;
use urne_crypto::triptych::{self, Parameters, Ring, Zeroizing};

use crate::body::{Reader, sized};
use crate::error::ElectionError;
use crate::kinds;

/// Label of the bytes an anonymous ballot's signature binds (spec/03, frozen). Cast and
/// audit share it: the device signs before it learns which the voter chooses (Benaloh).
pub const ANONYMOUS_BALLOT: &[u8] = b"urne/v1/election/anonymous-ballot\n";
/// The context-bytes label of an anonymous audited ballot's ring signature (spec/23
/// §23.13): a cast's signature is no audit's, and an audit's no cast's.
pub const ANONYMOUS_AUDIT: &[u8] = b"urne/v1/election/anonymous-audit\n";

/// Version byte of an anonymous election's manifest record, cast and audit bodies.
pub const ANONYMOUS_VERSION: u8 = 2;

/// The eligibility mode byte of an anonymous election.
pub const MODE_ANONYMOUS: u8 = 1;

/// Fewer registered keys than this in a bucket and a ballot over it names its voter: no
/// election may promise less (spec/23 §23.2).
pub const PROTOCOL_MIN_REAL_KEYS: u32 = 2;

/// Bytes of a version-2 `ballot.cast` body besides the ballot and the signature: version,
/// the ballot's length, the bucket, the signature's length.
pub const CAST_BODY_FIXED: usize = 1 + 4 + 4 + 4;

/// Bytes of the eligibility prefix before its registrar set.
const ELIGIBILITY_FIXED: usize = 1 + 1 + 4 + 4 + 32 + 2;

/// Where an anonymous election's eligibility comes from, and the anonymity it promises
/// (the prefix of a version-2 manifest record, spec/23 §23.2):
///
/// ```text
/// mode (0x01) ‖ min bucket bits (1, 1..=16) ‖ min registered keys (u32, 2..=2^bits)
///   ‖ min snapshot (u32, ≥ 1) ‖ registry id (32) ‖ registrar set length (u16)
///   ‖ registrar set (spec/31 §31.2)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eligibility {
    /// Every bucket holds 2^this keys or more.
    pub min_bucket_bits: u8,
    /// The smallest bucket holds at least this many registered keys.
    pub min_real_keys: u32,
    /// The snapshot's number is at least this.
    pub min_snapshot: u32,
    /// The registry whose snapshot the election takes.
    pub registry: [u8; 32],
    /// Its registrars, k of whom cosign the snapshot.
    pub registrars: Registrars,
}

const MANIFEST: &str = "election.manifest";

impl Eligibility {
    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let registrars = self.registrars.to_bytes();
        let mut out = Vec::with_capacity(ELIGIBILITY_FIXED + registrars.len());
        out.push(MODE_ANONYMOUS);
        out.push(self.min_bucket_bits);
        out.extend_from_slice(&self.min_real_keys.to_be_bytes());
        out.extend_from_slice(&self.min_snapshot.to_be_bytes());
        out.extend_from_slice(&self.registry);
        // At most 3 + 32 × 255 bytes (spec/31 §31.2): fits a u16.
        out.extend_from_slice(&(registrars.len() as u16).to_be_bytes());
        out.extend_from_slice(&registrars);
        out
    }

    /// Checks the promises are ones the protocol can keep: bucket bits 1..=16, registered
    /// keys 2..=2^bits, min snapshot ≥ 1.
    pub fn check(&self) -> Result<(), ElectionError> {
        if !(1..=urne_credential::registry::MAX_BUCKET_BITS).contains(&self.min_bucket_bits) {
            return Err(ElectionError::invalid(
                MANIFEST,
                "body.eligibility.min_bucket_bits",
                format!("{} is not in 1..=16", self.min_bucket_bits),
            ));
        }
        let most = 1u32 << self.min_bucket_bits;
        if !(PROTOCOL_MIN_REAL_KEYS..=most).contains(&self.min_real_keys) {
            return Err(ElectionError::invalid(
                MANIFEST,
                "body.eligibility.min_real_keys",
                format!(
                    "{} is not in {PROTOCOL_MIN_REAL_KEYS}..={most}: fewer than 2 registered keys in a bucket name the voter, more than the bucket size cannot be met",
                    self.min_real_keys
                ),
            ));
        }
        if self.min_snapshot == 0 {
            return Err(ElectionError::invalid(
                MANIFEST,
                "body.eligibility.min_snapshot",
                "snapshots are numbered from 1",
            ));
        }
        Ok(())
    }

    /// Reads the prefix, then checks it.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, ElectionError> {
        let mode = r.take(1, "body.eligibility.mode")?[0];
        if mode != MODE_ANONYMOUS {
            return Err(ElectionError::invalid(
                MANIFEST,
                "body.eligibility.mode",
                format!("mode {mode} is not {MODE_ANONYMOUS} (anonymous)"),
            ));
        }
        let min_bucket_bits = r.take(1, "body.eligibility.min_bucket_bits")?[0];
        let min_real_keys = r.u32("body.eligibility.min_real_keys")?;
        let min_snapshot = r.u32("body.eligibility.min_snapshot")?;
        let mut registry = [0u8; 32];
        registry.copy_from_slice(r.take(32, "body.eligibility.registry")?);
        let len = r.take(2, "body.eligibility.registrars_length")?;
        let len = u16::from_be_bytes([len[0], len[1]]);
        let registrars =
            Registrars::decode(r.take(usize::from(len), "body.eligibility.registrars")?).map_err(
                |e| ElectionError::invalid(MANIFEST, "body.eligibility.registrars", e.to_string()),
            )?;
        let eligibility = Self {
            min_bucket_bits,
            min_real_keys,
            min_snapshot,
            registry,
            registrars,
        };
        eligibility.check()?;
        Ok(eligibility)
    }

    /// What the election demands of its snapshot: the check it shares with petitions
    /// (only a version-2 snapshot, whose deal the registrar cannot grind).
    pub fn snapshot_policy(&self) -> SnapshotPolicy {
        SnapshotPolicy {
            registry: self.registry,
            registrars: self.registrars.clone(),
            min_bucket_bits: self.min_bucket_bits,
            min_real_keys: self.min_real_keys,
            min_snapshot: self.min_snapshot,
            fixed_deal_only: true,
        }
    }
}

pub(crate) fn decode_eligibility(r: &mut Reader<'_>) -> Result<Eligibility, ElectionError> {
    Eligibility::decode_from(r)
}

/// The bytes an anonymous ballot's Triptych signature binds (spec/23 §23.13, spec/08
/// §8.7's context bytes): the decision's label (ANONYMOUS_BALLOT for a cast,
/// ANONYMOUS_AUDIT for an audit) ‖ election context id ‖ snapshot id ‖ bucket (u32) ‖
/// tracking code. The tracking code hashes the whole ballot, its credential field (the
/// tag) included, so the signature covers every byte the voter chose.
pub fn signature_context(
    decision: Decision,
    context_id: &[u8; 32],
    snapshot_id: &[u8; 32],
    bucket: u32,
    tracking_code: &TrackingCode,
) -> Vec<u8> {
    let label = match decision {
        Decision::Cast => ANONYMOUS_BALLOT,
        Decision::Audit => ANONYMOUS_AUDIT,
    };
    let mut out = Vec::with_capacity(label.len() + 32 * 3 + 4);
    out.extend_from_slice(label);
    out.extend_from_slice(context_id);
    out.extend_from_slice(snapshot_id);
    out.extend_from_slice(&bucket.to_be_bytes());
    out.extend_from_slice(&tracking_code.0);
    out
}

/// U = linking_base(snapshot id, election context id) (spec/08 §8.5).
pub fn linking_base(snapshot_id: &[u8; 32], context_id: &[u8; 32]) -> RistrettoPoint {
    triptych::linking_base(snapshot_id, context_id)
}

/// The voter's tag in this election, J = r⁻¹·U: the ballot's credential field, which the
/// voter needs before encrypting (every ballot proof binds it).
pub fn tag_for(
    secret: &SecretScalar,
    snapshot_id: &[u8; 32],
    context_id: &[u8; 32],
) -> RistrettoPoint {
    let inverse = Zeroizing::new(secret.expose_secret().invert());
    linking_base(snapshot_id, context_id) * *inverse
}

/// The tag as the ballot's credential field.
pub fn credential_of_tag(tag: &RistrettoPoint) -> CredentialKey {
    CredentialKey(tag.compress().to_bytes())
}

/// Where the wallet key `secret`·G sits in the snapshot, or None if it is not in it.
pub fn position_of(snapshot: &Snapshot, secret: &SecretScalar) -> Option<Position> {
    snapshot.position(&secret.times_basepoint())
}

/// A bucket's ring (spec/31 §31.6), or None if the snapshot has no such bucket.
pub fn bucket_ring(snapshot: &Snapshot, bucket: u32) -> Option<Result<Ring, triptych::Error>> {
    snapshot
        .bucket(bucket)
        .map(|points| Ring::new(points.iter().map(|p| *p.as_ristretto()).collect()))
}

/// Signs a ballot as the holder of the wallet key at `position` of `snapshot`, for the
/// election `context_id`, over the ballot's `tracking_code`, for one decision (spec/23
/// §23.13). The ballot must carry [`tag_for`] as its credential, or the board refuses it
/// (`body.signature.tag`).
pub fn sign_ballot<R: CryptoRng + ?Sized>(
    rng: &mut R,
    secret: &SecretScalar,
    snapshot: &Snapshot,
    position: Position,
    context_id: &[u8; 32],
    decision: Decision,
    tracking_code: &TrackingCode,
) -> Result<triptych::Signature, triptych::Error> {
    let ring =
        bucket_ring(snapshot, position.bucket).ok_or(triptych::Error::IndexOutOfRange {
            index: position.bucket as usize,
            ring_size: snapshot.header().bucket_count() as usize,
        })??;
    let snapshot_id = snapshot.id();
    let context = signature_context(
        decision,
        context_id,
        &snapshot_id,
        position.bucket,
        tracking_code,
    );
    let secret = Zeroizing::new(*secret.expose_secret());
    triptych::sign(
        &ring,
        position.index,
        &secret,
        &linking_base(&snapshot_id, context_id),
        &context,
        rng,
    )
}

/// The signature checks of spec/23 §23.13 after the bucket is known to exist, in order:
/// the signature's tag is the ballot's credential (`body.signature.tag`), then it
/// verifies over `context` ([`signature_context`]) and the bucket's ring (`body.signature`).
pub fn check_signature(
    kind: &'static str,
    ring: &Ring,
    linking_base: &RistrettoPoint,
    context: &[u8],
    credential: &CredentialKey,
    signature: &triptych::Signature,
) -> Result<(), ElectionError> {
    check_tag(kind, credential, signature)?;
    triptych::verify(ring, linking_base, context, signature).map_err(|e| {
        ElectionError::invalid(
            kind,
            "body.signature",
            format!(
                "the ring signature does not verify ({}): {e}",
                e.spec_check()
            ),
        )
    })
}

/// The signature's tag J is the ballot's credential field (`body.signature.tag`): the tag
/// is what the state keys the voter by, and what every ballot proof binds.
pub fn check_tag(
    kind: &'static str,
    credential: &CredentialKey,
    signature: &triptych::Signature,
) -> Result<(), ElectionError> {
    if signature.tag().to_bytes() != credential.0 {
        return Err(ElectionError::invalid(
            kind,
            "body.signature.tag",
            "the signature's tag is not the ballot's credential",
        ));
    }
    Ok(())
}

/// The Triptych parameters of a snapshot's buckets of 2^`bucket_bits` keys.
pub fn parameters_for(bucket_bits: u8) -> Result<Parameters, triptych::Error> {
    Parameters::for_ring_size(1usize << bucket_bits.min(urne_credential::registry::MAX_BUCKET_BITS))
}

/// The signature part of a version-2 body: the bucket and the Triptych signature's bytes,
/// decoded against a ring size only once the election's snapshot is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnonymousSignature {
    /// The bucket of the snapshot whose ring the signature is over.
    pub bucket: u32,
    /// The signature's bytes (spec/08 §8.6, no disclosure).
    pub bytes: Vec<u8>,
}

impl AnonymousSignature {
    /// From a signature made by [`sign_ballot`].
    pub fn new(bucket: u32, signature: &triptych::Signature) -> Self {
        Self {
            bucket,
            bytes: signature.to_bytes(),
        }
    }

    /// Decodes strictly for buckets of 2^`bucket_bits` keys: the length must be the
    /// signature length of that ring size (`body.signature`).
    pub fn decode(
        &self,
        kind: &'static str,
        bucket_bits: u8,
    ) -> Result<triptych::Signature, ElectionError> {
        let parameters = parameters_for(bucket_bits)
            .map_err(|e| ElectionError::invalid(kind, "body.signature", e.to_string()))?;
        if self.bytes.len() != parameters.signature_len() {
            return Err(ElectionError::invalid(
                kind,
                "body.signature",
                format!(
                    "{} bytes, where a signature over buckets of {} keys has {}",
                    self.bytes.len(),
                    parameters.ring_size(),
                    parameters.signature_len()
                ),
            ));
        }
        triptych::Signature::from_bytes(&self.bytes, parameters)
            .map_err(|e| ElectionError::invalid(kind, "body.signature", e.to_string()))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bucket.to_be_bytes());
        sized(out, &self.bytes);
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Self, ElectionError> {
        let bucket = r.u32("body.bucket")?;
        let bytes = r.sized("body.signature")?.to_vec();
        Ok(Self { bucket, bytes })
    }
}

fn decode_ballot(kind: &'static str, bytes: &[u8]) -> Result<Ballot, ElectionError> {
    Ballot::decode(bytes).map_err(|e| {
        ElectionError::invalid(kind, format!("body.ballot.{}", e.field()), e.to_string())
    })
}

/// `ballot.cast` in an anonymous election (spec/23 §23.13):
///
/// ```text
/// 0x02 ‖ L (u32) ‖ ballot (L bytes, its credential = the tag J) ‖ bucket (u32)
///   ‖ S (u32) ‖ Triptych signature (S bytes)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnonymousCast {
    /// The ballot; its credential field is the signer's tag.
    pub ballot: Ballot,
    ballot_bytes: Vec<u8>,
    tracking: TrackingCode,
    /// The bucket and ring signature.
    pub signature: AnonymousSignature,
}

impl AnonymousCast {
    /// A cast ballot from a ballot and its signature.
    pub fn new(ballot: Ballot, signature: AnonymousSignature) -> Self {
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

    /// Its tracking code (what the signature binds).
    pub fn tracking_code(&self) -> TrackingCode {
        self.tracking
    }

    /// The body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(13 + self.ballot_bytes.len() + self.signature.bytes.len());
        out.push(ANONYMOUS_VERSION);
        sized(&mut out, &self.ballot_bytes);
        self.signature.encode(&mut out);
        out
    }

    /// Decodes strictly (the signature against its ring size later: [`AnonymousSignature::decode`]).
    pub fn decode(body: &[u8]) -> Result<Self, ElectionError> {
        let mut r = Reader::with_version(kinds::BALLOT_CAST, body, ANONYMOUS_VERSION)?;
        let ballot_bytes = r.sized("body.ballot")?;
        let ballot = decode_ballot("ballot.cast", ballot_bytes)?;
        let signature = AnonymousSignature::decode_from(&mut r)?;
        r.end()?;
        Ok(Self {
            ballot,
            tracking: TrackingCode::of_bytes(ballot_bytes),
            ballot_bytes: ballot_bytes.to_vec(),
            signature,
        })
    }
}

/// `ballot.audit` in an anonymous election (spec/23 §23.13):
///
/// ```text
/// 0x02 ‖ L (u32) ‖ ballot ‖ bucket (u32) ‖ S (u32) ‖ Triptych signature
///   ‖ opening (spec/21 §21.8, to the end)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnonymousAudit {
    /// The spoiled ballot; its credential field is the signer's tag.
    pub ballot: Ballot,
    ballot_bytes: Vec<u8>,
    tracking: TrackingCode,
    /// The bucket and ring signature: the same the device made before the voter chose
    /// to audit rather than cast.
    pub signature: AnonymousSignature,
    /// What the device says the ballot encrypts, with the nonces.
    pub opening: AuditedBallot,
}

impl AnonymousAudit {
    /// An audit record of a ballot, its signature and its opening.
    pub fn new(ballot: Ballot, signature: AnonymousSignature, opening: AuditedBallot) -> Self {
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

    /// Its tracking code.
    pub fn tracking_code(&self) -> TrackingCode {
        self.tracking
    }

    /// The body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![ANONYMOUS_VERSION];
        sized(&mut out, &self.ballot_bytes);
        self.signature.encode(&mut out);
        out.extend_from_slice(&self.opening.to_bytes());
        out
    }

    /// Decodes strictly.
    pub fn decode(body: &[u8]) -> Result<Self, ElectionError> {
        let mut r = Reader::with_version(kinds::BALLOT_AUDIT, body, ANONYMOUS_VERSION)?;
        let ballot_bytes = r.sized("body.ballot")?;
        let ballot = decode_ballot("ballot.audit", ballot_bytes)?;
        let signature = AnonymousSignature::decode_from(&mut r)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::ManifestRecord;
    use ed25519_dalek::SigningKey;
    use urne_ballot::{ContestSelection, ContextInputs, Election, Manifest};
    use urne_credential::registry::{Cosignature, Register, SignedSnapshot};
    use urne_credential::wallet::{ATTRIBUTE_DISTRICT, Wallet};
    use urne_crypto::elgamal::PublicKey;

    const REGISTRY: [u8; 32] = [7; 32];

    fn registrars() -> (Registrars, Vec<SigningKey>) {
        let keys: Vec<SigningKey> = (0..2u8)
            .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
            .collect();
        let set = Registrars::new(2, keys.iter().map(SigningKey::verifying_key).collect());
        (set.unwrap(), keys)
    }

    fn eligibility() -> Eligibility {
        Eligibility {
            min_bucket_bits: 2,
            min_real_keys: 2,
            min_snapshot: 1,
            registry: REGISTRY,
            registrars: registrars().0,
        }
    }

    fn manifest() -> Manifest {
        Manifest::new(
            "T",
            vec![urne_ballot::Contest {
                title: "Q".into(),
                kind: urne_ballot::ContestKind::SingleChoice,
                blank: false,
                options: vec!["a".into(), "b".into()],
            }],
        )
        .unwrap()
    }

    /// Five wallets in a snapshot of buckets of 4: two buckets (3 and 2 real keys).
    fn snapshot() -> (Snapshot, Vec<Wallet>) {
        let mut rng = rand::rng();
        let mut register = Register::new();
        let mut wallets = Vec::new();
        for i in 0..5u8 {
            let w = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
            let bytes = w.enrolment_request(&REGISTRY, &mut rng).unwrap().to_bytes();
            let request =
                urne_credential::wallet::EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY)
                    .unwrap();
            register.enrol([i; 32], &request, false).unwrap();
            wallets.push(w);
        }
        let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
        let id = header.id();
        let keys = registrars().1;
        let signed = SignedSnapshot {
            header,
            cosignatures: vec![
                Cosignature::sign(0, &keys[0], &id),
                Cosignature::sign(1, &keys[1], &id),
            ],
        };
        (Snapshot::new(signed, entries).unwrap(), wallets)
    }

    #[test]
    fn an_anonymous_manifest_record_round_trips_and_a_pseudonymous_one_is_unchanged() {
        let record = ManifestRecord {
            manifest: manifest(),
            eligibility: Some(eligibility()),
        };
        let body = record.to_body();
        assert_eq!(body[0], 2);
        assert_eq!(body[1], MODE_ANONYMOUS);
        assert_eq!(ManifestRecord::decode(&body).unwrap(), record);
        let plain = ManifestRecord {
            manifest: manifest(),
            eligibility: None,
        };
        let mut expected = vec![1];
        expected.extend_from_slice(&manifest().to_bytes());
        assert_eq!(plain.to_body(), expected);
        // The parameters hash commits the eligibility.
        assert_ne!(plain.parameters_hash(), record.parameters_hash());
        assert!(eligibility().snapshot_policy().fixed_deal_only);
    }

    fn refused_field(body: &[u8]) -> String {
        ManifestRecord::decode(body).unwrap_err().field().to_owned()
    }

    #[test]
    fn each_eligibility_field_is_decoded_strictly_and_named() {
        let good = ManifestRecord {
            manifest: manifest(),
            eligibility: Some(eligibility()),
        }
        .to_body();
        let with = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            b
        };
        assert_eq!(refused_field(&with(1, &[0])), "body.eligibility.mode");
        assert_eq!(refused_field(&with(1, &[2])), "body.eligibility.mode");
        assert_eq!(
            refused_field(&with(2, &[0])),
            "body.eligibility.min_bucket_bits"
        );
        assert_eq!(
            refused_field(&with(2, &[17])),
            "body.eligibility.min_bucket_bits"
        );
        assert_eq!(
            refused_field(&with(3, &1u32.to_be_bytes())),
            "body.eligibility.min_real_keys"
        );
        // 5 registered keys cannot be met by buckets of 2^2.
        assert_eq!(
            refused_field(&with(3, &5u32.to_be_bytes())),
            "body.eligibility.min_real_keys"
        );
        assert_eq!(
            refused_field(&with(7, &0u32.to_be_bytes())),
            "body.eligibility.min_snapshot"
        );
        // A registrar set length running past the body, then one too short for its keys.
        assert_eq!(
            refused_field(&with(43, &u16::MAX.to_be_bytes())),
            "body.eligibility.registrars"
        );
        let len = u16::from_be_bytes([good[43], good[44]]);
        assert_eq!(
            refused_field(&with(43, &(len - 1).to_be_bytes())),
            "body.eligibility.registrars"
        );
        assert_eq!(refused_field(&good[..30]), "body.eligibility.registry");
        assert_eq!(refused_field(&[2]), "body.eligibility.mode");
        assert_eq!(refused_field(&[3]), "body.version");
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(refused_field(&trailing).starts_with("body.manifest"));
    }

    fn election(snapshot: &Snapshot) -> Election {
        let joint = PublicKey::from_point(urne_crypto::group::basepoint()).unwrap();
        Election::new(ContextInputs {
            manifest: &manifest(),
            joint_key: &joint,
            credential_root: &snapshot.id(),
            board_origin: "test",
            context_id: &[3; 32],
        })
        .unwrap()
    }

    #[test]
    fn a_signed_anonymous_ballot_round_trips_and_verifies_only_as_signed() {
        let (snapshot, wallets) = snapshot();
        let election = election(&snapshot);
        let context_id = [3u8; 32];
        let mut rng = rand::rng();
        let wallet = &wallets[4];
        let position = position_of(&snapshot, wallet.secret()).unwrap();
        let tag = tag_for(wallet.secret(), &snapshot.id(), &context_id);
        let credential = credential_of_tag(&tag);
        let selections = [ContestSelection::approve(2, &[1]).unwrap()];
        let (ballot, _) = Ballot::encrypt(&election, &credential, &selections, &mut rng).unwrap();
        let tracking = TrackingCode::of(&ballot);
        let signature = sign_ballot(
            &mut rng,
            wallet.secret(),
            &snapshot,
            position,
            &context_id,
            Decision::Cast,
            &tracking,
        )
        .unwrap();
        assert_eq!(signature.tag().to_bytes(), credential.0);
        let cast = AnonymousCast::new(
            ballot.clone(),
            AnonymousSignature::new(position.bucket, &signature),
        );
        let body = cast.to_body();
        let decoded = AnonymousCast::decode(&body).unwrap();
        assert_eq!(decoded, cast);
        assert_eq!(
            crate::body::tracking_code_of_body(kinds::BALLOT_CAST, &body).unwrap(),
            tracking
        );
        let signature = decoded.signature.decode("ballot.cast", 2).unwrap();
        let ring = bucket_ring(&snapshot, position.bucket).unwrap().unwrap();
        let u = linking_base(&snapshot.id(), &context_id);
        let context = signature_context(
            Decision::Cast,
            &context_id,
            &snapshot.id(),
            position.bucket,
            &tracking,
        );
        check_signature("ballot.cast", &ring, &u, &context, &credential, &signature).unwrap();
        // Bound to the decision, the bucket, the election, the snapshot and the tracking
        // code: a cast's signature is no audit's.
        let other = |context: Vec<u8>| {
            check_signature("ballot.cast", &ring, &u, &context, &credential, &signature)
                .unwrap_err()
                .field()
                .to_owned()
        };
        assert_eq!(
            other(signature_context(
                Decision::Audit,
                &context_id,
                &snapshot.id(),
                position.bucket,
                &tracking
            )),
            "body.signature"
        );
        let bucket = position.bucket ^ 1;
        assert_eq!(
            other(signature_context(
                Decision::Cast,
                &context_id,
                &snapshot.id(),
                bucket,
                &tracking
            )),
            "body.signature"
        );
        assert_eq!(
            other(signature_context(
                Decision::Cast,
                &[4; 32],
                &snapshot.id(),
                position.bucket,
                &tracking
            )),
            "body.signature"
        );
        assert_eq!(
            other(signature_context(
                Decision::Cast,
                &context_id,
                &[5; 32],
                position.bucket,
                &tracking
            )),
            "body.signature"
        );
        assert_eq!(
            other(signature_context(
                Decision::Cast,
                &context_id,
                &snapshot.id(),
                position.bucket,
                &TrackingCode([6; 32])
            )),
            "body.signature"
        );
        // Another ballot credential than the tag.
        assert_eq!(
            check_signature(
                "ballot.cast",
                &ring,
                &u,
                &context,
                &CredentialKey([1; 32]),
                &signature
            )
            .unwrap_err()
            .field(),
            "body.signature.tag"
        );
        // A signature decoded for another ring size.
        assert_eq!(
            decoded
                .signature
                .decode("ballot.cast", 3)
                .unwrap_err()
                .field(),
            "body.signature"
        );
        // The audit body's round trip.
        let (ballot, secrets) =
            Ballot::encrypt(&election, &credential, &selections, &mut rng).unwrap();
        let opening = secrets.audit(&ballot);
        let audit = AnonymousAudit::new(ballot, AnonymousSignature::new(0, &signature), opening);
        assert_eq!(AnonymousAudit::decode(&audit.to_body()).unwrap(), audit);
    }

    #[test]
    fn the_labels_are_frozen_as_spec_23_lists_them() {
        let path = format!(
            "{}/../../spec/23-election-records.md",
            env!("CARGO_MANIFEST_DIR")
        );
        let spec = std::fs::read_to_string(&path).unwrap();
        for (name, label) in [
            ("ANONYMOUS_BALLOT", ANONYMOUS_BALLOT),
            ("ANONYMOUS_AUDIT", ANONYMOUS_AUDIT),
        ] {
            let row = spec
                .lines()
                .find(|l| l.starts_with(&format!("| {name} |")))
                .unwrap_or_else(|| panic!("spec/23 §23.11 lists {name}"));
            let listed = row.split('`').nth(1).unwrap().replace("\\n", "\n");
            assert_eq!(listed.as_bytes(), label, "{name}");
        }
    }

    /// The context bytes as spec/23 §23.13 lays them out, hashed with Python's hashlib
    /// from the spec alone (context id 0x01…, snapshot id 0x02…, bucket 5, tracking code
    /// 0x03…), for a cast and for an audit.
    #[test]
    fn the_signature_context_is_laid_out_as_spec_23_says() {
        use sha2::{Digest, Sha256};
        let hashed = |decision| {
            let bytes = signature_context(decision, &[1; 32], &[2; 32], 5, &TrackingCode([3; 32]));
            (
                bytes.len(),
                urne_crypto::encoding::to_hex(&Sha256::digest(&bytes)),
            )
        };
        assert_eq!(
            hashed(Decision::Cast),
            (
                134,
                "3bd98e03e8cd686b6fdd5ae8a681725f055aaa2a4d3bfc4b78dfac865d54a90e".to_owned()
            )
        );
        assert_eq!(
            hashed(Decision::Audit),
            (
                133,
                "0bad79ef4330125cca251428b77d2a4fcb69dab9c67f88cb36e3d6b5b0d133ed".to_owned()
            )
        );
    }

    #[test]
    fn version_2_bodies_are_decoded_strictly() {
        let field = |body: &[u8]| AnonymousCast::decode(body).unwrap_err().field().to_owned();
        assert_eq!(field(&[]), "body.version");
        assert_eq!(field(&[1, 0, 0, 0, 0]), "body.version");
        assert_eq!(field(&[2, 0, 0]), "body.ballot_length");
        assert_eq!(field(&[2, 0, 0, 0, 9, 1]), "body.ballot");
        assert_eq!(
            AnonymousAudit::decode(&[1]).unwrap_err().field(),
            "body.version"
        );
        // The pseudonymous decoders refuse version 2.
        assert_eq!(
            crate::CastBallot::decode(&[2, 0, 0, 0, 0])
                .unwrap_err()
                .field(),
            "body.version"
        );
    }
}
