//! The petition's state as its records build it (spec/32 §32.6): one fold for the
//! board, the verifier and the CLI.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use curve25519_dalek::ristretto::RistrettoPoint;
use sha2::{Digest, Sha256};
use urne_credential::registry::{
    RegistryError, SignedSnapshot, Snapshot, SnapshotAssembler, SnapshotPart,
};
use urne_record::Kind;

use crate::body::{Definition, Duplicate, PetitionResult, SignatureBody};
use crate::error::PetitionError;
use crate::kinds::*;
use crate::labels;
use crate::phase::Phase;
use crate::signature::{self, BucketRing, RingSignature};

/// A petition's parameters once it opens: immutable, read without the state lock by the
/// stateless checks of signatures.
pub struct Sealed {
    context: [u8; 32],
    definition: Definition,
    snapshot: Snapshot,
    linking_base: RistrettoPoint,
    rings: Vec<OnceLock<Result<BucketRing, PetitionError>>>,
    /// Each bucket's attribute ring, for disclosing signatures (spec/32 §32.11).
    commitment_rings: Vec<OnceLock<Result<BucketRing, PetitionError>>>,
}

impl Sealed {
    fn new(context: [u8; 32], definition: Definition, snapshot: Snapshot) -> Self {
        let buckets = snapshot.header().bucket_count() as usize;
        Self {
            context,
            linking_base: signature::linking_base(&snapshot.id(), &context),
            definition,
            snapshot,
            rings: (0..buckets).map(|_| OnceLock::new()).collect(),
            commitment_rings: (0..buckets).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The definition.
    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The linking base U of this petition.
    pub fn linking_base(&self) -> &RistrettoPoint {
        &self.linking_base
    }

    /// Bucket `bucket`'s ring, prepared on first use.
    pub fn ring(&self, bucket: u32) -> Result<&BucketRing, PetitionError> {
        let cell = self.rings.get(bucket as usize).ok_or_else(|| {
            PetitionError::invalid(
                "body.bucket",
                format!(
                    "bucket {bucket} does not exist: the snapshot has {}",
                    self.rings.len()
                ),
            )
        })?;
        cell.get_or_init(|| {
            let points = self.snapshot.bucket(bucket).ok_or_else(|| {
                PetitionError::invalid("body.bucket", format!("bucket {bucket} does not exist"))
            })?;
            BucketRing::new(&points)
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Bucket `bucket`'s attribute ring (spec/31 §31.6), prepared on first use.
    pub fn commitment_ring(&self, bucket: u32) -> Result<&BucketRing, PetitionError> {
        let missing =
            || PetitionError::invalid("body.bucket", format!("bucket {bucket} does not exist"));
        let cell = self
            .commitment_rings
            .get(bucket as usize)
            .ok_or_else(missing)?;
        cell.get_or_init(|| {
            BucketRing::new(
                &self
                    .snapshot
                    .bucket_commitments(bucket)
                    .ok_or_else(missing)?,
            )
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// The bytes a signature (`withdrawal` false) or withdrawal binds.
    pub fn context_bytes(&self, withdrawal: bool, bucket: u32, signer: &[u8; 32]) -> Vec<u8> {
        self.context_bytes_disclosing(withdrawal, bucket, None, signer)
    }

    /// As [`Self::context_bytes`], with the district disclosed, if any (spec/32 §32.5).
    pub fn context_bytes_disclosing(
        &self,
        withdrawal: bool,
        bucket: u32,
        disclosed: Option<u32>,
        signer: &[u8; 32],
    ) -> Vec<u8> {
        signature::context_bytes_disclosing(
            if withdrawal {
                labels::WITHDRAWAL
            } else {
                labels::SIGNATURE
            },
            &self.context,
            &self.snapshot.id(),
            bucket,
            &self.definition.text_hash,
            disclosed,
            signer,
        )
    }

    /// The checks of a disclosure against the petition (spec/32 §32.11): not on a
    /// withdrawal, the definition takes one, and the district is enrolled in the snapshot
    /// at least min-bin times.
    pub fn check_disclosure(
        &self,
        withdrawal: bool,
        disclosed: Option<u32>,
    ) -> Result<(), PetitionError> {
        let Some(district) = disclosed else {
            return Ok(());
        };
        // A withdrawal counts for no district, so a district on it would only publish
        // the signer's district a second time, for nothing.
        if withdrawal {
            return Err(PetitionError::invalid(
                "body.disclosure",
                "a withdrawal discloses no district",
            ));
        }
        let min_bin = self.definition.disclosure().ok_or_else(|| {
            PetitionError::invalid(
                "body.disclosure",
                "this petition's definition takes no attribute disclosure",
            )
        })?;
        let enrolled = self
            .snapshot
            .header()
            .districts
            .iter()
            .find(|(d, _)| *d == district)
            .map_or(0, |(_, n)| *n);
        if enrolled < u64::from(min_bin) {
            return Err(PetitionError::invalid(
                "body.disclosure",
                format!(
                    "district {district} has {enrolled} people enrolled, fewer than the petition's minimum bin of {min_bin}: disclosing it would single its signers out"
                ),
            ));
        }
        Ok(())
    }

    /// Decodes a signature body against its bucket's ring (no verification).
    pub fn decode_signature(&self, body: &SignatureBody) -> Result<RingSignature, PetitionError> {
        let ring = self.ring(body.bucket)?;
        match body.disclosed {
            None => RingSignature::decode(&body.signature, ring),
            Some(_) => RingSignature::decode_disclosing(&body.signature, ring),
        }
    }

    /// Decodes and verifies a signature or withdrawal by `signer`; returns its tag.
    pub fn verify(
        &self,
        withdrawal: bool,
        signer: &[u8; 32],
        body: &SignatureBody,
    ) -> Result<[u8; 32], PetitionError> {
        self.check_disclosure(withdrawal, body.disclosed)?;
        let decoded = self.decode_signature(body)?;
        let context =
            self.context_bytes_disclosing(withdrawal, body.bucket, body.disclosed, signer);
        match body.disclosed {
            None => signature::verify(
                self.ring(body.bucket)?,
                &self.linking_base,
                &context,
                &decoded,
            )?,
            Some(district) => signature::verify_disclosing(
                self.ring(body.bucket)?,
                self.commitment_ring(body.bucket)?,
                district,
                &self.linking_base,
                &context,
                &decoded,
            )?,
        }
        Ok(decoded.tag())
    }
}

/// A registry error as the body's: its field under `body.`.
fn registry_error(e: RegistryError) -> PetitionError {
    match e {
        RegistryError::Decode { field, reason } => {
            PetitionError::invalid(format!("body.{field}"), reason)
        }
        RegistryError::Policy { field, reason } => {
            PetitionError::invalid(format!("body.{field}"), reason)
        }
        other => PetitionError::invalid("body", other.to_string()),
    }
}

/// A decoded body, ready for [`PetitionState::check`].
#[derive(Clone, Debug)]
pub enum Decoded {
    /// `petition.define`.
    Define(Definition),
    /// `registry.snapshot`.
    Snapshot(SignedSnapshot),
    /// `registry.snapshot-part`.
    Part(SnapshotPart),
    /// `petition.sign`, with its tag once verified.
    Sign(SignatureBody, Option<[u8; 32]>),
    /// `petition.withdraw`, with its tag once verified.
    Withdraw(SignatureBody, Option<[u8; 32]>),
    /// `petition.result`.
    Result(PetitionResult),
    /// `petition.duplicate`, with the embedded signature's tag once verified.
    Duplicate(Duplicate, Option<[u8; 32]>),
}

impl Decoded {
    /// Decodes a petition kind's body; None for a kind that is not a petition's.
    pub fn decode(kind: Kind, body: &[u8]) -> Option<Result<Self, PetitionError>> {
        let registry = registry_error;
        Some(match kind {
            PETITION_DEFINE => Definition::decode(body).map(Self::Define),
            REGISTRY_SNAPSHOT => SignedSnapshot::decode(body)
                .map(Self::Snapshot)
                .map_err(registry),
            REGISTRY_SNAPSHOT_PART => SnapshotPart::decode(body).map(Self::Part).map_err(registry),
            PETITION_SIGN => SignatureBody::decode(body).map(|b| Self::Sign(b, None)),
            PETITION_WITHDRAW => SignatureBody::decode(body).map(|b| Self::Withdraw(b, None)),
            PETITION_RESULT => PetitionResult::decode(body).map(Self::Result),
            PETITION_DUPLICATE => Duplicate::decode(body).map(|d| Self::Duplicate(d, None)),
            _ => return None,
        })
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Self::Define(_) => "petition.define",
            Self::Snapshot(_) => "registry.snapshot",
            Self::Part(_) => "registry.snapshot-part",
            Self::Sign(..) => "petition.sign",
            Self::Withdraw(..) => "petition.withdraw",
            Self::Result(_) => "petition.result",
            Self::Duplicate(..) => "petition.duplicate",
        }
    }
}

/// Where a tag stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TagState {
    signed_at: u64,
    withdrawn_at: Option<u64>,
    /// SHA-256 of the counted signature's body: evidence must be another signature.
    body: [u8; 32],
    /// The district its signature disclosed, if any.
    district: Option<u32>,
}

/// A petition's state.
pub struct PetitionState {
    context: [u8; 32],
    authority: [u8; 32],
    parameters: [u8; 32],
    phase: Phase,
    definition: Option<Definition>,
    assembler: Option<SnapshotAssembler>,
    sealed: Option<Arc<Sealed>>,
    tags: HashMap<[u8; 32], TagState>,
    counted: u64,
    withdrawn: u64,
    result: Option<PetitionResult>,
    /// Evidence posted: the tag it proves signed twice (spec/32 §32.6 step 7) → its record.
    evidence: HashMap<[u8; 32], u64>,
}

impl PetitionState {
    /// A newly opened petition context: its id, its authority, and the parameters hash of
    /// its `context.open`, which the definition must hash to (spec/32 §32.6).
    pub fn new(context: [u8; 32], authority: [u8; 32], parameters: [u8; 32]) -> Self {
        Self {
            context,
            authority,
            parameters,
            phase: Phase::Draft,
            definition: None,
            assembler: None,
            sealed: None,
            tags: HashMap::new(),
            counted: 0,
            withdrawn: 0,
            result: None,
            evidence: HashMap::new(),
        }
    }

    /// Its authority (the signer of its `context.open`).
    pub fn authority(&self) -> [u8; 32] {
        self.authority
    }

    /// Its phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Its definition, once posted.
    pub fn definition(&self) -> Option<&Definition> {
        self.definition.as_ref()
    }

    /// Its sealed parameters, once open.
    pub fn sealed(&self) -> Option<&Arc<Sealed>> {
        self.sealed.as_ref()
    }

    /// Distinct tags signed and not withdrawn.
    pub fn counted(&self) -> u64 {
        self.counted
    }

    /// Tags withdrawn.
    pub fn withdrawn(&self) -> u64 {
        self.withdrawn
    }

    /// Per-district counts of the signatures that disclosed a district and are not
    /// withdrawn, for the districts with at least the definition's minimum bin; the
    /// districts below it are withheld (spec/32 §32.11). Empty if the petition takes no
    /// disclosure.
    pub fn district_counts(&self) -> Vec<(u32, u64)> {
        let Some(min_bin) = self.definition.as_ref().and_then(Definition::disclosure) else {
            return Vec::new();
        };
        let mut counts = std::collections::BTreeMap::<u32, u64>::new();
        for state in self.tags.values() {
            if let (Some(district), None) = (state.district, state.withdrawn_at) {
                *counts.entry(district).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .filter(|(_, n)| *n >= u64::from(min_bin))
            .collect()
    }

    /// Tags proven signed twice by evidence (`petition.duplicate`, one per tag), never
    /// counted.
    pub fn duplicates(&self) -> u64 {
        self.evidence.len() as u64
    }

    /// The posted result, if any.
    pub fn result(&self) -> Option<&PetitionResult> {
        self.result.as_ref()
    }

    /// The stateless checks of a record (outside any lock): signatures and withdrawals
    /// are decoded and verified against the sealed parameters.
    pub fn precheck(
        sealed: Option<&Sealed>,
        signer: &[u8; 32],
        decoded: &mut Decoded,
    ) -> Result<(), PetitionError> {
        let (withdrawal, body, tag, signer) = match decoded {
            Decoded::Sign(body, tag) => (false, &*body, tag, signer),
            Decoded::Withdraw(body, tag) => (true, &*body, tag, signer),
            // The evidence's signature binds the refused record's envelope key, not the
            // key that posts the evidence.
            Decoded::Duplicate(duplicate, tag) => (false, &duplicate.body, tag, &duplicate.signer),
            _ => return Ok(()),
        };
        let sealed = sealed.ok_or(PetitionError::WrongPhase {
            kind: if withdrawal {
                "petition.withdraw"
            } else {
                "petition.sign or petition.duplicate"
            },
            phase: "not open",
        })?;
        *tag = Some(sealed.verify(withdrawal, signer, body)?);
        Ok(())
    }

    /// The ordered checks of a decoded (and prechecked) record by `signer`; returns the
    /// unique keys it takes (a signature's tag).
    pub fn check(
        &self,
        signer: &[u8; 32],
        decoded: &Decoded,
    ) -> Result<Vec<(&'static str, Vec<u8>)>, PetitionError> {
        let wrong_phase = || PetitionError::WrongPhase {
            kind: decoded.kind_name(),
            phase: self.phase.name(),
        };
        let by_authority = || {
            if *signer == self.authority {
                Ok(())
            } else {
                Err(PetitionError::NotAuthorized(format!(
                    "{} is posted by the petition's authority",
                    decoded.kind_name()
                )))
            }
        };
        match decoded {
            Decoded::Define(definition) => {
                if self.phase != Phase::Draft {
                    return Err(wrong_phase());
                }
                by_authority()?;
                if self.definition.is_some() {
                    return Err(PetitionError::invalid(
                        "kind",
                        "the petition is already defined",
                    ));
                }
                // The decoder is strict, so re-encoding gives the posted bytes back.
                let hash: [u8; 32] = Sha256::digest(definition.to_bytes()).into();
                if hash != self.parameters {
                    return Err(PetitionError::invalid(
                        "body",
                        "this definition does not hash to the parameters of the petition's context.open",
                    ));
                }
            }
            Decoded::Snapshot(snapshot) => {
                if self.phase != Phase::Draft {
                    return Err(wrong_phase());
                }
                by_authority()?;
                let definition = self.definition.as_ref().ok_or_else(|| {
                    PetitionError::invalid("kind", "define the petition before its snapshot")
                })?;
                if self.assembler.is_some() {
                    return Err(PetitionError::invalid(
                        "kind",
                        "the petition already has its snapshot",
                    ));
                }
                definition
                    .snapshot_policy()
                    .check(snapshot)
                    .map_err(registry_error)?;
            }
            Decoded::Part(part) => {
                if self.phase != Phase::Draft {
                    return Err(wrong_phase());
                }
                by_authority()?;
                let assembler = self.assembler.as_ref().ok_or_else(|| {
                    PetitionError::invalid("kind", "post the snapshot before its parts")
                })?;
                assembler.check(part).map_err(registry_error)?;
            }
            Decoded::Sign(_, tag) => {
                if self.phase != Phase::Open {
                    return Err(wrong_phase());
                }
                let tag = tag.ok_or_else(|| {
                    PetitionError::invalid("body.signature", "the signature was not verified")
                })?;
                if let Some(seen) = self.tags.get(&tag) {
                    return Err(PetitionError::AlreadyUsed {
                        field: "body.signature.tag".into(),
                        reason: format!(
                            "this signer already signed this petition in record #{}",
                            seen.signed_at
                        ),
                    });
                }
                return Ok(vec![("petition.tag", tag.to_vec())]);
            }
            Decoded::Withdraw(_, tag) => {
                if self.phase != Phase::Open {
                    return Err(wrong_phase());
                }
                let tag = tag.ok_or_else(|| {
                    PetitionError::invalid("body.signature", "the withdrawal was not verified")
                })?;
                match self.tags.get(&tag) {
                    None => {
                        return Err(PetitionError::invalid(
                            "body.signature.tag",
                            "no signature of this petition has this tag",
                        ));
                    }
                    Some(TagState {
                        withdrawn_at: Some(at),
                        ..
                    }) => {
                        return Err(PetitionError::AlreadyUsed {
                            field: "body.signature.tag".into(),
                            reason: format!("this signature was withdrawn in record #{at}"),
                        });
                    }
                    Some(_) => return Ok(vec![("petition.withdrawn-tag", tag.to_vec())]),
                }
            }
            Decoded::Duplicate(duplicate, tag) => {
                // Once the result is posted the record is final: evidence after it would
                // change what a reader of the finished petition sees, forever.
                if !matches!(self.phase, Phase::Open | Phase::Closed) || self.result.is_some() {
                    return Err(wrong_phase());
                }
                let tag = tag.ok_or_else(|| {
                    PetitionError::invalid("body.signed.signature", "the evidence was not verified")
                })?;
                let held = self.tags.get(&tag).ok_or_else(|| {
                    PetitionError::invalid(
                        "body.signed.signature.tag",
                        "no signature of this petition has this tag: this is not a duplicate",
                    )
                })?;
                let body: [u8; 32] = Sha256::digest(duplicate.body.to_bytes()).into();
                if body == held.body {
                    return Err(PetitionError::invalid(
                        "body.signed",
                        format!(
                            "this is the signature of record #{} itself, not a second one",
                            held.signed_at
                        ),
                    ));
                }
                // One piece of evidence per tag: its signer alone can make more second
                // signatures (and the envelope key is any 32 bytes), so keying by anything
                // finer would let one person flood the log with proofs of the same fact.
                if let Some(at) = self.evidence.get(&tag) {
                    return Err(PetitionError::AlreadyUsed {
                        field: "body.signed.signature.tag".into(),
                        reason: format!(
                            "a second signature under this tag is already kept as evidence in record #{at}"
                        ),
                    });
                }
                return Ok(vec![("petition.evidence", tag.to_vec())]);
            }
            Decoded::Result(result) => {
                if self.phase != Phase::Closed {
                    return Err(wrong_phase());
                }
                by_authority()?;
                if self.result.is_some() {
                    return Err(PetitionError::invalid(
                        "kind",
                        "the result is already posted",
                    ));
                }
                let expected = self.expected_result()?;
                if *result != expected {
                    return Err(PetitionError::invalid(
                        "body",
                        format!(
                            "the result says {} counted, {} withdrawn, reached {}; the board counts {}, {}, {}",
                            result.counted,
                            result.withdrawn,
                            result.reached,
                            expected.counted,
                            expected.withdrawn,
                            expected.reached
                        ),
                    ));
                }
            }
        }
        Ok(Vec::new())
    }

    fn expected_result(&self) -> Result<PetitionResult, PetitionError> {
        let definition = self
            .definition
            .as_ref()
            .ok_or_else(|| PetitionError::invalid("kind", "the petition is not defined"))?;
        Ok(PetitionResult {
            counted: self.counted,
            withdrawn: self.withdrawn,
            reached: self.counted >= definition.threshold,
        })
    }

    /// Applies a checked record at `index`. Signatures are not verified again (their
    /// check did); their tag is read from the signature's encoding.
    pub fn apply(&mut self, kind: Kind, body: &[u8], index: u64) -> Result<(), PetitionError> {
        let decoded = Decoded::decode(kind, body).ok_or_else(|| {
            PetitionError::invalid("kind", format!("0x{:04x} is not a petition kind", kind.0))
        })??;
        match decoded {
            Decoded::Define(d) => self.definition = Some(d),
            Decoded::Snapshot(s) => self.assembler = Some(SnapshotAssembler::new(s)),
            Decoded::Part(p) => self
                .assembler
                .as_mut()
                .ok_or_else(|| PetitionError::invalid("kind", "no snapshot"))?
                .push(&p)
                .map_err(registry_error)?,
            Decoded::Sign(b, _) => {
                let tag = self.tag_of(&b)?;
                self.tags.insert(
                    tag,
                    TagState {
                        signed_at: index,
                        withdrawn_at: None,
                        body: Sha256::digest(body).into(),
                        district: b.disclosed,
                    },
                );
                self.counted += 1;
            }
            Decoded::Withdraw(b, _) => {
                let tag = self.tag_of(&b)?;
                let state = self.tags.get_mut(&tag).ok_or_else(|| {
                    PetitionError::invalid("body.signature.tag", "no signature has this tag")
                })?;
                if state.withdrawn_at.is_some() {
                    return Err(PetitionError::invalid(
                        "body.signature.tag",
                        "this signature was already withdrawn",
                    ));
                }
                state.withdrawn_at = Some(index);
                self.counted = self.counted.saturating_sub(1);
                self.withdrawn += 1;
            }
            Decoded::Result(r) => self.result = Some(r),
            Decoded::Duplicate(d, _) => {
                let tag = self.tag_of(&d.body)?;
                self.evidence.insert(tag, index);
            }
        }
        Ok(())
    }

    fn tag_of(&self, body: &SignatureBody) -> Result<[u8; 32], PetitionError> {
        let sealed = self
            .sealed
            .as_ref()
            .ok_or_else(|| PetitionError::invalid("kind", "the petition is not open"))?;
        Ok(sealed.decode_signature(body)?.tag())
    }

    /// Whether the petition may move to `to` now.
    pub fn check_phase(&self, to: Phase) -> Result<(), PetitionError> {
        if !self.phase.may_move(to) {
            return Err(PetitionError::WrongPhase {
                kind: "context.phase",
                phase: self.phase.name(),
            });
        }
        match to {
            Phase::Open => {
                if self.definition.is_none() {
                    return Err(PetitionError::invalid(
                        "body",
                        "a petition opens once defined",
                    ));
                }
                if !self
                    .assembler
                    .as_ref()
                    .is_some_and(SnapshotAssembler::is_complete)
                {
                    return Err(PetitionError::invalid(
                        "body",
                        "a petition opens once its snapshot is complete",
                    ));
                }
            }
            Phase::Reached | Phase::NotReached => {
                let result = self.result.as_ref().ok_or_else(|| {
                    PetitionError::invalid("body", "post the result before the outcome")
                })?;
                if result.reached != (to == Phase::Reached) {
                    return Err(PetitionError::invalid(
                        "body",
                        format!(
                            "the result says the threshold was reached: {}",
                            result.reached
                        ),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Moves to `to` (after [`Self::check_phase`]); opening seals the parameters.
    pub fn apply_phase(&mut self, to: Phase) -> Result<(), PetitionError> {
        self.check_phase(to)?;
        if to == Phase::Open {
            let definition = self
                .definition
                .clone()
                .ok_or_else(|| PetitionError::invalid("body", "not defined"))?;
            let assembler = self
                .assembler
                .take()
                .ok_or_else(|| PetitionError::invalid("body", "no snapshot"))?;
            let snapshot = assembler
                .finish()
                .map_err(|e| PetitionError::invalid("body", e.to_string()))?;
            self.sealed = Some(Arc::new(Sealed::new(self.context, definition, snapshot)));
        }
        self.phase = to;
        Ok(())
    }
}
