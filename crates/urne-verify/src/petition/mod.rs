//! The verifier's own fold of a petition (spec/32 §32.6–§32.7, spec/31 §31.4–§31.6): who
//! may post what in which phase, the definition against its `context.open`, the snapshot's
//! cosignatures and the floors the definition binds, its parts, every signature, withdrawal
//! and duplicate with its tag, the count, the posted result and the per-district bins.
//!
//! Why its own (ARCHITECTURE §9): a verifier that replays urne-petition's fold cannot
//! catch a bug in it. Shared with the board are only formats and pure checks: the
//! decoders of the registry's snapshot and parts (urne-credential, spec/31; their assembly
//! and deal are the verifier's own, [`crate::snapshot`]), the ring
//! signature's decoding and equations (urne-crypto's Triptych, spec/08). A differential
//! test (tests/petition_differential.rs) holds both folds to the same verdicts.
//!
//! Signatures are verified after the fold, one batch per bucket, buckets across cores:
//! a signature changes nothing a later record is checked against but its tag, which is
//! read from its encoding. When a batch names a bad signature, the fold runs again with
//! that record refused, so every record after it is judged against the state the board
//! should have had.

mod body;

pub use body::{PetitionResult, Phase, kinds};

use std::collections::{BTreeMap, HashMap};

use curve25519_dalek::ristretto::RistrettoPoint;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use urne_credential::registry::{RegistryError, SignedSnapshot, SnapshotPart};

use crate::snapshot::{Assembler as SnapshotAssembler, Dealt as Snapshot, verify_cosignatures};
use urne_crypto::triptych::{self, BatchVerifier, Parameters, Ring};
use urne_record::Kind;
use urne_record::kinds::CONTEXT_PHASE;

use body::{
    Definition, Duplicate, Refusal, SIGNATURE_LABEL, SignatureBody, WITHDRAWAL_LABEL, kind_name,
    refuse,
};

/// One record of a petition's context after its `context.open`, as the log holds it
/// (its envelope signature already verified, V2).
#[derive(Clone, Debug)]
pub struct PetitionRecord {
    /// Its index in the log.
    pub index: u64,
    /// Its kind.
    pub kind: Kind,
    /// Its envelope's signer.
    pub signer: [u8; 32],
    /// Its body.
    pub body: Vec<u8>,
}

/// A record the board should have refused: where, which field, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The record's index in the log.
    pub index: u64,
    /// The field at fault (`body.signature`, `body.signature.tag`, `signer`, …).
    pub field: String,
    /// Why.
    pub message: String,
}

/// What the recount found: the petition's state once every record the board should have
/// accepted is applied, and every one it should have refused.
#[derive(Clone, Debug)]
pub struct PetitionOutcome {
    /// The phase the records leave it in.
    pub phase: Phase,
    /// Distinct tags signed and not withdrawn.
    pub counted: u64,
    /// Tags withdrawn.
    pub withdrawn: u64,
    /// The threshold, once defined.
    pub threshold: Option<u64>,
    /// The result the authority posted, checked against the count.
    pub result: Option<PetitionResult>,
    /// Tags proven signed twice (`petition.duplicate`, one per tag), never counted.
    pub duplicates: u64,
    /// Signatures not withdrawn per disclosed district, only the districts with at least
    /// the definition's minimum bin (spec/32 §32.11); the others are withheld.
    pub districts: Vec<(u32, u64)>,
    /// The records the board should have refused, in log order; each is left out.
    pub faults: Vec<Fault>,
}

/// Recounts the petition `context`, opened by `authority` with `parameters` the
/// parameters hash of its `context.open`, from its later `records` in log order
/// (spec/32 §32.7).
pub fn recount(
    context: [u8; 32],
    authority: [u8; 32],
    parameters: [u8; 32],
    records: &[PetitionRecord],
) -> PetitionOutcome {
    let mut fold = Fold::new(context, authority, parameters, HashMap::new());
    fold.run(records);
    let refused = fold.verify_signatures();
    if refused.is_empty() {
        return fold.outcome();
    }
    let mut again = Fold::new(context, authority, parameters, refused);
    again.run(records);
    again.outcome()
}

/// The floors a petition's definition or an anonymous election's eligibility binds on
/// its snapshot (spec/32 §32.6 step 2, spec/23 §23.12), in that order: buckets of at
/// least 2^`min_bucket_bits` keys (`body.bucket_bits`), at least `min_real_keys`
/// registered keys in the smallest bucket (`body.total`), a snapshot number at least
/// `min_snapshot` (`body.number`).
pub(crate) fn check_floors(
    header: &urne_credential::registry::SnapshotHeader,
    min_bucket_bits: u8,
    min_real_keys: u32,
    min_snapshot: u32,
) -> Result<(), (&'static str, String)> {
    let size = header.bucket_size();
    let floor = 1usize << min_bucket_bits;
    if size < floor {
        return Err((
            "body.bucket_bits",
            format!("buckets of {size} keys, below the floor of {floor}"),
        ));
    }
    // Dealt round robin (spec/31 §31.6): the smallest bucket holds ⌊T / buckets⌋.
    let buckets = header.total.div_ceil(size as u64).max(1);
    let fewest = header.total / buckets;
    if fewest < u64::from(min_real_keys) {
        return Err((
            "body.total",
            format!(
                "{} entries in {buckets} buckets leave {fewest} registered keys in the smallest, below the floor of {min_real_keys}",
                header.total
            ),
        ));
    }
    if header.number < min_snapshot {
        return Err((
            "body.number",
            format!(
                "snapshot number {}, below the oldest taken, {min_snapshot}",
                header.number
            ),
        ));
    }
    Ok(())
}

/// A petition's parameters once open (spec/32 §32.5): what every signature binds.
struct Sealed {
    snapshot: Snapshot,
    snapshot_id: [u8; 32],
    text_hash: [u8; 32],
    linking_base: RistrettoPoint,
    /// The shape of every ring of the snapshot (its buckets are all 2^bits keys).
    parameters: Parameters,
    min_bin: Option<u32>,
}

/// A signature decoded during the fold, verified with its bucket's batch afterwards.
struct Pending {
    index: u64,
    bucket: u32,
    context: Vec<u8>,
    signature: triptych::Signature,
    district: Option<u32>,
}

#[derive(Clone, Copy)]
struct Tag {
    signed_at: u64,
    withdrawn_at: Option<u64>,
    /// SHA-256 of the counted signature's body: evidence must be another signature.
    body: [u8; 32],
    district: Option<u32>,
}

struct Fold {
    context: [u8; 32],
    authority: [u8; 32],
    parameters: [u8; 32],
    phase: Phase,
    definition: Option<Definition>,
    assembler: Option<SnapshotAssembler>,
    sealed: Option<Sealed>,
    tags: HashMap<[u8; 32], Tag>,
    counted: u64,
    withdrawn: u64,
    result: Option<PetitionResult>,
    /// Tag proven signed twice → the evidence's record.
    evidence: HashMap<[u8; 32], u64>,
    faults: Vec<Fault>,
    /// Records whose signature a batch refused (a first run found them), with why.
    refused: HashMap<u64, String>,
    pending: Vec<Pending>,
}

/// The three records that carry a ring signature.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signed {
    Sign,
    Withdraw,
    Duplicate,
}

fn registry_refusal(e: RegistryError) -> Refusal {
    match e {
        RegistryError::Decode { field, reason } => refuse(format!("body.{field}"), reason),
        other => refuse("body", other.to_string()),
    }
}

impl Fold {
    fn new(
        context: [u8; 32],
        authority: [u8; 32],
        parameters: [u8; 32],
        refused: HashMap<u64, String>,
    ) -> Self {
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
            faults: Vec::new(),
            refused,
            pending: Vec::new(),
        }
    }

    fn run(&mut self, records: &[PetitionRecord]) {
        for record in records {
            if let Err(r) = self.feed(record) {
                self.faults.push(Fault {
                    index: record.index,
                    field: r.field,
                    message: r.message,
                });
            }
        }
    }

    fn feed(&mut self, record: &PetitionRecord) -> Result<(), Refusal> {
        match record.kind {
            CONTEXT_PHASE => self.move_phase(record),
            kinds::PETITION_DEFINE => self.define(record),
            kinds::REGISTRY_SNAPSHOT => self.snapshot(record),
            kinds::REGISTRY_SNAPSHOT_PART => self.part(record),
            kinds::PETITION_SIGN => self.signed(record, Signed::Sign),
            kinds::PETITION_WITHDRAW => self.signed(record, Signed::Withdraw),
            kinds::PETITION_DUPLICATE => self.signed(record, Signed::Duplicate),
            kinds::PETITION_RESULT => self.result(record),
            other => Err(refuse(
                "kind",
                format!(
                    "0x{:04x} is not a kind a petition context takes (spec/32 §32.2)",
                    other.0
                ),
            )),
        }
    }

    fn wrong_phase(&self, kind: Kind) -> Refusal {
        refuse(
            "kind",
            format!(
                "{} is not taken while the petition is {}",
                kind_name(kind),
                self.phase.name()
            ),
        )
    }

    fn by_authority(&self, record: &PetitionRecord) -> Result<(), Refusal> {
        if record.signer == self.authority {
            Ok(())
        } else {
            Err(refuse(
                "signer",
                format!(
                    "{} is posted by the petition's authority (the signer of its context.open)",
                    kind_name(record.kind)
                ),
            ))
        }
    }

    /// spec/12 §12.3, spec/32 §32.3.
    fn move_phase(&mut self, record: &PetitionRecord) -> Result<(), Refusal> {
        if record.signer != self.authority {
            return Err(refuse(
                "signer",
                "context.phase is posted by the petition's authority",
            ));
        }
        let to = match record.body.as_slice() {
            [code] => Phase::from_code(*code)
                .ok_or_else(|| refuse("body", format!("a petition has no phase {code}")))?,
            _ => return Err(refuse("body", "one byte, the code of the phase moved to")),
        };
        if !self.phase.may_move(to) {
            return Err(refuse(
                "body",
                format!(
                    "a petition does not move from {} to {}",
                    self.phase.name(),
                    to.name()
                ),
            ));
        }
        match to {
            Phase::Open => {
                let definition = self
                    .definition
                    .as_ref()
                    .ok_or_else(|| refuse("body", "a petition opens once defined"))?;
                if !self
                    .assembler
                    .as_ref()
                    .is_some_and(SnapshotAssembler::is_complete)
                {
                    return Err(refuse(
                        "body",
                        "a petition opens once every part of its snapshot is in",
                    ));
                }
                let assembler = self
                    .assembler
                    .take()
                    .ok_or_else(|| refuse("body", "no snapshot"))?;
                let snapshot = assembler
                    .finish()
                    .map_err(|(field, reason)| refuse(field, reason))?;
                let snapshot_id = snapshot.id();
                let parameters = Parameters::for_ring_size(snapshot.header().bucket_size())
                    .map_err(|e| refuse("body", format!("the snapshot's buckets: {e}")))?;
                self.sealed = Some(Sealed {
                    linking_base: triptych::linking_base(&snapshot_id, &self.context),
                    snapshot_id,
                    text_hash: definition.text_hash,
                    parameters,
                    min_bin: definition.min_bin,
                    snapshot,
                });
            }
            Phase::Reached | Phase::NotReached => {
                let result = self
                    .result
                    .ok_or_else(|| refuse("body", "the outcome comes after petition.result"))?;
                if result.reached != (to == Phase::Reached) {
                    return Err(refuse(
                        "body",
                        format!(
                            "the posted result says reached = {}, the move says {}",
                            result.reached,
                            to.name()
                        ),
                    ));
                }
            }
            Phase::Draft | Phase::Closed => {}
        }
        self.phase = to;
        Ok(())
    }

    /// spec/32 §32.6 step 1.
    fn define(&mut self, record: &PetitionRecord) -> Result<(), Refusal> {
        let definition = Definition::decode(&record.body)?;
        if self.phase != Phase::Draft {
            return Err(self.wrong_phase(record.kind));
        }
        self.by_authority(record)?;
        if self.definition.is_some() {
            return Err(refuse("kind", "the petition is already defined"));
        }
        let hash: [u8; 32] = Sha256::digest(&record.body).into();
        if hash != self.parameters {
            return Err(refuse(
                "body",
                "SHA-256 of this definition is not the parameters hash of the petition's context.open",
            ));
        }
        self.definition = Some(definition);
        Ok(())
    }

    /// spec/32 §32.6 step 2, spec/31 §31.4.
    fn snapshot(&mut self, record: &PetitionRecord) -> Result<(), Refusal> {
        let signed = SignedSnapshot::decode(&record.body).map_err(registry_refusal)?;
        if self.phase != Phase::Draft {
            return Err(self.wrong_phase(record.kind));
        }
        self.by_authority(record)?;
        let definition = self
            .definition
            .as_ref()
            .ok_or_else(|| refuse("kind", "the snapshot comes after petition.define"))?;
        if self.assembler.is_some() {
            return Err(refuse("kind", "the petition already has its snapshot"));
        }
        let header = &signed.header;
        if header.registry != definition.registry {
            return Err(refuse(
                "body.registry",
                "the snapshot is of another registry than the definition names",
            ));
        }
        verify_cosignatures(&signed, &definition.registrars)
            .map_err(|e| refuse("body.cosignatures", e))?;
        // A version-1 snapshot deals its buckets by its own id, which the registrar can
        // re-roll (spec/31 §31.6): checked first, as
        // the board does, since it undoes every floor.
        if definition.version_2 && header.version != 2 {
            return Err(refuse(
                "body.version",
                format!(
                    "a version-{} snapshot under a version-2 definition, which takes only version 2",
                    header.version
                ),
            ));
        }
        // The floors the definition binds: the anonymity set is public from the
        // definition on, and no snapshot below it opens the petition.
        check_floors(
            header,
            definition.min_bucket_bits,
            definition.min_real_keys,
            definition.min_snapshot,
        )
        .map_err(|(field, message)| refuse(field, message))?;
        self.assembler = Some(SnapshotAssembler::new(signed));
        Ok(())
    }

    /// spec/32 §32.6 step 3, spec/31 §31.5.
    fn part(&mut self, record: &PetitionRecord) -> Result<(), Refusal> {
        let part = SnapshotPart::decode(&record.body).map_err(registry_refusal)?;
        if self.phase != Phase::Draft {
            return Err(self.wrong_phase(record.kind));
        }
        self.by_authority(record)?;
        self.assembler
            .as_mut()
            .ok_or_else(|| refuse("kind", "a part comes after its registry.snapshot"))?
            .push(&part)
            .map_err(|(field, reason)| refuse(field, reason))
    }

    /// spec/32 §32.6 step 6.
    fn result(&mut self, record: &PetitionRecord) -> Result<(), Refusal> {
        let result = PetitionResult::decode(&record.body)?;
        if self.phase != Phase::Closed {
            return Err(self.wrong_phase(record.kind));
        }
        self.by_authority(record)?;
        if self.result.is_some() {
            return Err(refuse("kind", "the result is already posted"));
        }
        let threshold = self.definition.as_ref().map_or(u64::MAX, |d| d.threshold);
        let expected = PetitionResult {
            counted: self.counted,
            withdrawn: self.withdrawn,
            reached: self.counted >= threshold,
        };
        if result != expected {
            return Err(refuse(
                "body",
                format!(
                    "the result says {} counted, {} withdrawn, reached {}; the log gives {}, {}, {}",
                    result.counted,
                    result.withdrawn,
                    result.reached,
                    expected.counted,
                    expected.withdrawn,
                    expected.reached
                ),
            ));
        }
        self.result = Some(result);
        Ok(())
    }

    /// spec/32 §32.6 steps 4, 5 and 7: the stateless checks (the signature's equations
    /// deferred to its bucket's batch), then the phase and the tag.
    fn signed(&mut self, record: &PetitionRecord, what: Signed) -> Result<(), Refusal> {
        let (duplicate, body, signer, prefix) = match what {
            Signed::Duplicate => {
                let d = Duplicate::decode(&record.body)?;
                let (body, signer) = (d.body.clone(), d.signer);
                (Some(d), body, signer, "body.signed")
            }
            Signed::Sign | Signed::Withdraw => (
                None,
                SignatureBody::decode(&record.body, "body")?,
                record.signer,
                "body",
            ),
        };
        let sealed = self
            .sealed
            .as_ref()
            .ok_or_else(|| self.wrong_phase(record.kind))?;
        let header = sealed.snapshot.header();
        if let Some(district) = body.disclosed {
            let disclosure = format!("{prefix}.disclosure");
            if what == Signed::Withdraw {
                return Err(refuse(
                    disclosure,
                    "a withdrawal counts for no district and discloses none",
                ));
            }
            let min_bin = sealed.min_bin.ok_or_else(|| {
                refuse(
                    disclosure.clone(),
                    "the definition takes no attribute disclosure",
                )
            })?;
            let enrolled = header
                .districts
                .iter()
                .find(|(d, _)| *d == district)
                .map_or(0, |(_, n)| *n);
            if enrolled < u64::from(min_bin) {
                return Err(refuse(
                    disclosure,
                    format!(
                        "district {district} has {enrolled} people enrolled, below the minimum bin of {min_bin}"
                    ),
                ));
            }
        }
        if body.bucket >= header.bucket_count() {
            return Err(refuse(
                format!("{prefix}.bucket"),
                format!(
                    "bucket {} does not exist: the snapshot has {}",
                    body.bucket,
                    header.bucket_count()
                ),
            ));
        }
        let signature = match body.disclosed {
            None => triptych::Signature::from_bytes(body.signature, sealed.parameters),
            Some(_) => {
                triptych::Signature::from_bytes_disclosing(body.signature, sealed.parameters)
            }
        }
        .map_err(|e| refuse(format!("{prefix}.signature"), e.to_string()))?;
        let tag = signature.tag().to_bytes();
        if let Some(reason) = self.refused.get(&record.index) {
            return Err(refuse(
                format!("{prefix}.signature"),
                format!("the ring signature does not verify: {reason}"),
            ));
        }
        let mut context = Vec::with_capacity(200);
        context.extend_from_slice(if what == Signed::Withdraw {
            WITHDRAWAL_LABEL
        } else {
            SIGNATURE_LABEL
        });
        context.extend_from_slice(&self.context);
        context.extend_from_slice(&sealed.snapshot_id);
        context.extend_from_slice(&body.bucket.to_be_bytes());
        context.extend_from_slice(&sealed.text_hash);
        context.extend_from_slice(body.disclosure);
        context.extend_from_slice(&signer);
        self.pending.push(Pending {
            index: record.index,
            bucket: body.bucket,
            context,
            signature,
            district: body.disclosed,
        });
        match what {
            Signed::Sign => {
                if self.phase != Phase::Open {
                    return Err(self.wrong_phase(record.kind));
                }
                if let Some(held) = self.tags.get(&tag) {
                    return Err(refuse(
                        "body.signature.tag",
                        format!(
                            "already used: this signer signed this petition in record #{}",
                            held.signed_at
                        ),
                    ));
                }
                self.tags.insert(
                    tag,
                    Tag {
                        signed_at: record.index,
                        withdrawn_at: None,
                        body: Sha256::digest(&record.body).into(),
                        district: body.disclosed,
                    },
                );
                self.counted += 1;
            }
            Signed::Withdraw => {
                if self.phase != Phase::Open {
                    return Err(self.wrong_phase(record.kind));
                }
                let held = self.tags.get_mut(&tag).ok_or_else(|| {
                    refuse(
                        "body.signature.tag",
                        "no signature of this petition has this tag",
                    )
                })?;
                if let Some(at) = held.withdrawn_at {
                    return Err(refuse(
                        "body.signature.tag",
                        format!("already used: this signature was withdrawn in record #{at}"),
                    ));
                }
                held.withdrawn_at = Some(record.index);
                self.counted -= 1;
                self.withdrawn += 1;
            }
            Signed::Duplicate => {
                // Once the result is posted the petition's record is final.
                if !matches!(self.phase, Phase::Open | Phase::Closed) || self.result.is_some() {
                    return Err(self.wrong_phase(record.kind));
                }
                let held = self.tags.get(&tag).ok_or_else(|| {
                    refuse(
                        "body.signed.signature.tag",
                        "no signature of this petition has this tag: it is no duplicate",
                    )
                })?;
                let signed = duplicate.map_or(&[][..], |d| d.signed);
                if <[u8; 32]>::from(Sha256::digest(signed)) == held.body {
                    return Err(refuse(
                        "body.signed",
                        format!(
                            "the signature of record #{} itself, not a second one",
                            held.signed_at
                        ),
                    ));
                }
                if let Some(at) = self.evidence.get(&tag) {
                    return Err(refuse(
                        "body.signed.signature.tag",
                        format!(
                            "already used: a second signature under this tag is kept in record #{at}"
                        ),
                    ));
                }
                self.evidence.insert(tag, record.index);
            }
        }
        Ok(())
    }

    /// Every pending signature, one batch per bucket, buckets in parallel: the records
    /// whose signature does not verify, with why (spec/08 §8.8–§8.9).
    fn verify_signatures(&mut self) -> HashMap<u64, String> {
        let Some(sealed) = &self.sealed else {
            return HashMap::new();
        };
        let mut buckets: BTreeMap<u32, Vec<&Pending>> = BTreeMap::new();
        for p in &self.pending {
            buckets.entry(p.bucket).or_default().push(p);
        }
        let buckets: Vec<(u32, Vec<&Pending>)> = buckets.into_iter().collect();
        buckets
            .par_iter()
            .flat_map_iter(|(bucket, items)| verify_bucket(sealed, *bucket, items))
            .collect()
    }

    fn outcome(self) -> PetitionOutcome {
        let districts = match self.definition.as_ref().and_then(|d| d.min_bin) {
            None => Vec::new(),
            Some(min_bin) => {
                let mut bins = BTreeMap::<u32, u64>::new();
                for tag in self.tags.values() {
                    if let (Some(d), None) = (tag.district, tag.withdrawn_at) {
                        *bins.entry(d).or_default() += 1;
                    }
                }
                bins.into_iter()
                    .filter(|(_, n)| *n >= u64::from(min_bin))
                    .collect()
            }
        };
        PetitionOutcome {
            phase: self.phase,
            counted: self.counted,
            withdrawn: self.withdrawn,
            threshold: self.definition.as_ref().map(|d| d.threshold),
            result: self.result,
            duplicates: self.evidence.len() as u64,
            districts,
            faults: self.faults,
        }
    }
}

/// One bucket's batch: its ring (and attribute ring, if a signature discloses) rebuilt
/// from the snapshot (spec/31 §31.6).
fn verify_bucket(sealed: &Sealed, bucket: u32, items: &[&Pending]) -> Vec<(u64, String)> {
    let all = |reason: String| items.iter().map(|p| (p.index, reason.clone())).collect();
    let ring = |points: Option<Vec<urne_crypto::Point>>| {
        let points = points.ok_or_else(|| format!("bucket {bucket} does not exist"))?;
        Ring::new(points.iter().map(|p| *p.as_ristretto()).collect())
            .map_err(|e| format!("bucket {bucket}'s ring: {e}"))
    };
    let keys = match ring(sealed.snapshot.bucket(bucket)) {
        Ok(r) => r,
        Err(e) => return all(e),
    };
    let commitments = if items.iter().any(|p| p.district.is_some()) {
        match ring(sealed.snapshot.bucket_commitments(bucket)) {
            Ok(r) => Some(r),
            Err(e) => return all(e),
        }
    } else {
        None
    };
    let mut batch = match &commitments {
        Some(c) => BatchVerifier::with_commitments(&keys, c, sealed.linking_base),
        None => BatchVerifier::new(&keys, sealed.linking_base),
    };
    for p in items {
        match p.district {
            None => batch.push(&p.context, &p.signature),
            Some(d) => batch.push_disclosing(
                &p.context,
                &p.signature,
                *urne_credential::wallet::district_generator(d).as_ristretto(),
            ),
        }
    }
    match batch.verify(&mut rand::rng()) {
        Ok(()) => Vec::new(),
        Err(triptych::Error::Batch { invalid }) => invalid
            .into_iter()
            .filter_map(|(at, e)| items.get(at).map(|p| (p.index, format!("{e}"))))
            .collect(),
        Err(e) => all(format!("{e}")),
    }
}
