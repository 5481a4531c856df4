//! The election's state as a pure fold over its records (spec/23): decode, the
//! stateless checks that need only the election's sealed parameters ([`Sealed`]), the
//! ordered checks against the state, and apply.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use curve25519_dalek::ristretto::RistrettoPoint;
use urne_ballot::{ContextInputs, CredentialKey, Election, Manifest, check_audit};
use urne_ceremony::{
    CeremonyOpen, CeremonyOutcome, CommitmentHash, Commitments, Complaint, ComplaintAnswer,
    DecryptionError, DecryptionShares, EncryptedShares, TrusteeRegistration,
    VerifiedDecryptionShares, verify_decryption_shares,
};
use urne_credential::registry::{
    RegistryError, SignedSnapshot, Snapshot, SnapshotAssembler, SnapshotPart,
};
use urne_credential::{
    CredentialList, CredentialListPart, Decision, ListAssembler, PublicCredential,
};
use urne_crypto::triptych::{self, Ring};
use urne_crypto::{Ciphertext, CiphertextSum, Relations, Scalar};
use urne_record::Kind;
use urne_tally::{EncryptedTally, TallyError, TallyResult, check_opening, decrypt_sums};

use crate::anonymous::{
    AnonymousAudit, AnonymousCast, AnonymousSignature, Eligibility, check_tag, signature_context,
};
use crate::body::{
    AuditRecord, CastBallot, CloseRound, ManifestRecord, skim_ballot_of_body, tracking_code_of_body,
};
use crate::ceremony::{Ceremony, round};
use crate::error::ElectionError;
use crate::kinds::{self, name};
use crate::phase::Phase;

/// The unique-key space of tracking codes: a ballot is cast or audited once.
pub const TRACKING_CODE_KEY: &str = "ballot.tracking-code";
/// Key space of a credential's audits: credential ‖ the audit's rank (u8) among them, so
/// two audits racing for the same rank cannot both be accepted.
pub const AUDIT_SLOT_KEY: &str = "ballot.audit-slot";
/// Audits a credential may post (spec/23 §23.7). A voter who doubts the device needs a
/// few challenges, each a fresh ballot: eight give a device that cheats on one ballot
/// in two a chance below 1/256 of going unseen, and bound what one credential adds to
/// the board to eight ballots' worth.
pub const MAX_AUDITS_PER_CREDENTIAL: u8 = 8;
/// The unique-key space of decryption shares: one set per trustee.
pub const TRUSTEE_SHARES_KEY: &str = "tally.trustee";

/// A record that passed [`ElectionState::precheck`]'s stateless checks, with the sealed
/// parameters they read. Only [`ElectionState::precheck_record`] makes one (its fields
/// are private), so what [`ElectionState::check_prechecked`] skips because precheck did
/// it, precheck did.
#[derive(Debug)]
pub struct PrecheckedRecord {
    decoded: Decoded,
    sealed: Option<Arc<Sealed>>,
}

impl PrecheckedRecord {
    /// The decoded record.
    pub fn decoded(&self) -> &Decoded {
        &self.decoded
    }

    /// The sealed parameters it was checked against (None before voting opened).
    pub fn sealed(&self) -> Option<&Arc<Sealed>> {
        self.sealed.as_ref()
    }
}

/// A key a record takes: no two records of an election hold the same one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// Its space (it names the field in a refusal).
    pub space: &'static str,
    /// Its bytes.
    pub key: Vec<u8>,
}

/// A decoded election record.
#[derive(Clone, Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Decoded {
    /// `election.manifest`.
    Manifest(ManifestRecord),
    /// `ceremony.open`.
    CeremonyOpen(CeremonyOpen),
    /// `ceremony.register`.
    Register(TrusteeRegistration),
    /// `ceremony.commitment-hash`.
    CommitmentHash(CommitmentHash),
    /// `ceremony.commitments`.
    Commitments(Commitments),
    /// `ceremony.shares`.
    Shares(EncryptedShares),
    /// `ceremony.complaint`.
    Complaint(Complaint),
    /// `ceremony.answer`.
    Answer(ComplaintAnswer),
    /// `ceremony.close-round`.
    CloseRound(CloseRound),
    /// `election.credentials`.
    Credentials(CredentialListPart),
    /// `election.snapshot`.
    Snapshot(Box<SignedSnapshot>),
    /// `election.snapshot-part`.
    SnapshotPart(SnapshotPart),
    /// `ballot.cast`, version 1 (a pseudonymous election's).
    Cast(Box<CastBallot>),
    /// `ballot.cast`, version 2 (an anonymous election's).
    AnonymousCast(Box<AnonymousCast>),
    /// `ballot.audit`, version 1.
    Audit(Box<AuditRecord>),
    /// `ballot.audit`, version 2.
    AnonymousAudit(Box<AnonymousAudit>),
    /// `tally.decryption-shares`.
    DecryptionShares(DecryptionShares),
    /// `tally.result`.
    Result(Box<TallyResult>),
}

fn ceremony_err(kind: &'static str) -> impl Fn(urne_ceremony::DecodeError) -> ElectionError {
    // The field path the decoder names (`body.coefficients[2].proof.z`), so a refusal says
    // which field was wrong, as the credential list's and the ballot's do.
    move |e| {
        let field = if e.field.is_empty() {
            "body".to_string()
        } else {
            format!("body.{}", e.field)
        };
        ElectionError::invalid(kind, field, e.problem.to_string())
    }
}

fn credential_err(e: urne_credential::CredentialError) -> ElectionError {
    use urne_credential::CredentialError;
    let kind = "election.credentials";
    match e {
        CredentialError::Decode { field, reason } => {
            ElectionError::invalid(kind, format!("body.{field}"), reason)
        }
        CredentialError::Order { index } => {
            ElectionError::invalid(kind, format!("body.entries[{index}]"), e.to_string())
        }
        other => ElectionError::invalid(kind, "body", other.to_string()),
    }
}

/// A registry error as the field of a snapshot record's body that it names.
fn registry_err(kind: &'static str, e: RegistryError) -> ElectionError {
    match e {
        RegistryError::Decode { field, reason } => {
            ElectionError::invalid(kind, format!("body.{field}"), reason)
        }
        RegistryError::Policy { field, reason } => {
            ElectionError::invalid(kind, format!("body.{field}"), reason)
        }
        other => ElectionError::invalid(kind, "body", other.to_string()),
    }
}

/// Decodes an election record's body strictly; None for a kind that is not an
/// election's. A ballot body's version byte says which it is: 1 pseudonymous, 2
/// anonymous (whether the election takes it is the checks' question).
pub fn decode(kind: Kind, body: &[u8]) -> Option<Result<Decoded, ElectionError>> {
    use kinds::*;
    Some(match kind {
        ELECTION_MANIFEST => ManifestRecord::decode(body).map(Decoded::Manifest),
        CEREMONY_OPEN => CeremonyOpen::decode(body)
            .map(Decoded::CeremonyOpen)
            .map_err(ceremony_err("ceremony.open")),
        CEREMONY_REGISTER => TrusteeRegistration::decode(body)
            .map(Decoded::Register)
            .map_err(ceremony_err("ceremony.register")),
        CEREMONY_COMMITMENT_HASH => CommitmentHash::decode(body)
            .map(Decoded::CommitmentHash)
            .map_err(ceremony_err("ceremony.commitment-hash")),
        CEREMONY_COMMITMENTS => Commitments::decode(body)
            .map(Decoded::Commitments)
            .map_err(ceremony_err("ceremony.commitments")),
        CEREMONY_SHARES => EncryptedShares::decode(body)
            .map(Decoded::Shares)
            .map_err(ceremony_err("ceremony.shares")),
        CEREMONY_COMPLAINT => Complaint::decode(body)
            .map(Decoded::Complaint)
            .map_err(ceremony_err("ceremony.complaint")),
        CEREMONY_ANSWER => ComplaintAnswer::decode(body)
            .map(Decoded::Answer)
            .map_err(ceremony_err("ceremony.answer")),
        CEREMONY_CLOSE_ROUND => CloseRound::decode(body).map(Decoded::CloseRound),
        ELECTION_CREDENTIALS => CredentialListPart::decode(body)
            .map(Decoded::Credentials)
            .map_err(credential_err),
        ELECTION_SNAPSHOT => SignedSnapshot::decode(body)
            .map(|s| Decoded::Snapshot(Box::new(s)))
            .map_err(|e| registry_err("election.snapshot", e)),
        ELECTION_SNAPSHOT_PART => SnapshotPart::decode(body)
            .map(Decoded::SnapshotPart)
            .map_err(|e| registry_err("election.snapshot-part", e)),
        BALLOT_CAST if body.first() == Some(&crate::anonymous::ANONYMOUS_VERSION) => {
            AnonymousCast::decode(body).map(|c| Decoded::AnonymousCast(Box::new(c)))
        }
        BALLOT_CAST => CastBallot::decode(body).map(|c| Decoded::Cast(Box::new(c))),
        BALLOT_AUDIT if body.first() == Some(&crate::anonymous::ANONYMOUS_VERSION) => {
            AnonymousAudit::decode(body).map(|a| Decoded::AnonymousAudit(Box::new(a)))
        }
        BALLOT_AUDIT => AuditRecord::decode(body).map(|a| Decoded::Audit(Box::new(a))),
        TALLY_DECRYPTION_SHARES => DecryptionShares::decode(body)
            .map(Decoded::DecryptionShares)
            .map_err(ceremony_err("tally.decryption-shares")),
        TALLY_RESULT => TallyResult::decode(body)
            .map(|r| Decoded::Result(Box::new(r)))
            .map_err(|e| {
                ElectionError::invalid(
                    "tally.result",
                    format!("body.{}", e.field()),
                    e.detail().to_owned(),
                )
            }),
        _ => return None,
    })
}

/// The election's immutable parameters once voting opens, sealed so that the board's
/// stateless checks (ballot proofs, audits, decryption shares) read them without the
/// state lock (spec/12 §12.5). Sealed again, with the encrypted tally, when tallying
/// begins; never changed otherwise.
#[derive(Debug)]
pub struct Sealed {
    election: Arc<Election>,
    /// The credential list (empty in an anonymous election).
    credentials: Arc<CredentialList>,
    /// An anonymous election's snapshot and rings; None in a pseudonymous one.
    anonymous: Option<Arc<SealedSnapshot>>,
    outcome: CeremonyOutcome,
    identities: Vec<[u8; 32]>,
    /// Ciphertexts per ballot (options and blank votes of every contest, spec/24
    /// §24.2): counted once, not per applied ballot.
    entries: usize,
    tally: Option<PendingTally>,
}

/// The counted ballots frozen when tallying begins, and their sums computed on first
/// use. The sums are a function of the frozen ballots alone, so computing them late
/// changes nothing; it moves the work (two point decodings per ciphertext, seconds at
/// 100,000 ballots) out of the apply that holds the board's state lock and into the
/// first decryption share's precheck, which runs outside it (spec/23 §23.8).
#[derive(Debug)]
struct PendingTally {
    /// Emptied once the sums are computed: they are all that is read afterwards, and
    /// the ballots are most of the election's memory.
    kept: Mutex<Vec<Latest>>,
    cast: u64,
    /// Only a success is kept: a failure is reported to its caller and the next one
    /// tries again from the ballots.
    computed: OnceLock<SealedTally>,
}

/// An anonymous election's snapshot once voting opens (spec/23 §23.3): its id, the
/// linking base of the election, and each bucket's ring, prepared once (decoded keys and
/// the ring's digest, spec/08 §8.3) on the first ballot over it, outside the state lock.
pub struct SealedSnapshot {
    snapshot: Snapshot,
    id: [u8; 32],
    context_id: [u8; 32],
    linking_base: RistrettoPoint,
    /// Shared, so that a statement can carry its ring to a batch of signatures over
    /// the same bucket (the board's precheck group) without copying 2^16 keys.
    rings: Vec<OnceLock<Result<Arc<Ring>, String>>>,
}

impl std::fmt::Debug for SealedSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSnapshot")
            .field("id", &urne_crypto::encoding::to_hex(&self.id))
            .field("buckets", &self.rings.len())
            .finish()
    }
}

impl SealedSnapshot {
    fn new(snapshot: Snapshot, context_id: &[u8; 32]) -> Self {
        let id = snapshot.id();
        let buckets = snapshot.header().bucket_count() as usize;
        Self {
            linking_base: crate::anonymous::linking_base(&id, context_id),
            id,
            context_id: *context_id,
            snapshot,
            rings: (0..buckets).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Its id (the context hash's `credential_root`, spec/21 §21.3).
    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// U = linking_base(snapshot id, election context id).
    pub fn linking_base(&self) -> &RistrettoPoint {
        &self.linking_base
    }

    /// Bucket `bucket`'s ring, prepared on first use (`body.bucket` if there is none).
    pub fn ring(&self, kind: &'static str, bucket: u32) -> Result<&Arc<Ring>, ElectionError> {
        let missing = || {
            ElectionError::invalid(
                kind,
                "body.bucket",
                format!(
                    "bucket {bucket} does not exist: the snapshot has {}",
                    self.rings.len()
                ),
            )
        };
        let cell = self.rings.get(bucket as usize).ok_or_else(missing)?;
        cell.get_or_init(
            || match crate::anonymous::bucket_ring(&self.snapshot, bucket) {
                Some(Ok(ring)) => Ok(Arc::new(ring)),
                Some(Err(e)) => Err(e.to_string()),
                None => Err(format!("bucket {bucket} does not exist")),
            },
        )
        .as_ref()
        .map_err(|e| ElectionError::invalid(kind, "body.bucket", e.clone()))
    }
}

/// What an anonymous ballot's signature is checked against: its bucket's ring, the
/// election's linking base, its context bytes and the signature decoded for that ring
/// (spec/23 §23.13), once the checks before the verification passed. What a batch over
/// one bucket collects: the board's precheck group (spec/12 §12.5) and the replay's
/// deferred casts (§23.10).
#[derive(Clone, Debug)]
pub struct AnonymousStatement {
    /// The record's kind (`ballot.cast`, `ballot.audit`), for its refusal.
    pub kind: &'static str,
    /// The bucket.
    pub bucket: u32,
    /// Its ring (the sealed snapshot's own: two statements over one bucket of one
    /// election hold the same `Arc`).
    pub ring: Arc<Ring>,
    /// U of the election (§23.11).
    pub linking_base: RistrettoPoint,
    /// The context bytes the signature binds.
    pub context: Vec<u8>,
    /// The signature.
    pub signature: triptych::Signature,
}

impl AnonymousStatement {
    /// Verifies the signature on its own.
    pub fn verify(&self) -> Result<(), ElectionError> {
        triptych::verify(
            &self.ring,
            &self.linking_base,
            &self.context,
            &self.signature,
        )
        .map_err(|e| self.refusal(&e))
    }

    /// The refusal of a record whose signature does not verify (`body.signature`), the
    /// same whether it failed alone or was named by a batch.
    pub fn refusal(&self, error: &triptych::Error) -> ElectionError {
        signature_err(self.kind, error)
    }
}

#[derive(Debug)]
struct SealedTally {
    tally: EncryptedTally,
    superseded: u64,
    ciphertexts: Vec<Ciphertext>,
}

impl Sealed {
    /// The election as ballots see it (manifest, joint key, context hash).
    pub fn election(&self) -> &Election {
        &self.election
    }
    /// The credential list (empty in an anonymous election: its voters are
    /// [`Self::anonymous`]'s snapshot's keys).
    pub fn credentials(&self) -> &CredentialList {
        &self.credentials
    }
    /// An anonymous election's sealed snapshot; None for a pseudonymous election.
    pub fn anonymous(&self) -> Option<&SealedSnapshot> {
        self.anonymous.as_deref()
    }
    /// The `credential_root` of the election context hash (spec/21 §21.3): the list's
    /// Merkle root, or an anonymous election's snapshot id.
    pub fn credential_root(&self) -> [u8; 32] {
        match &self.anonymous {
            Some(a) => a.id,
            None => self.credentials.root().0,
        }
    }

    fn pseudonymous_only(&self, kind: &'static str) -> Result<(), ElectionError> {
        if self.anonymous.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "body.version",
                "a version-1 ballot body in an anonymous election: its ballots carry a ring signature (version 2)",
            ));
        }
        Ok(())
    }

    fn anonymous_only(&self, kind: &'static str) -> Result<&SealedSnapshot, ElectionError> {
        self.anonymous.as_deref().ok_or_else(|| {
            ElectionError::invalid(
                kind,
                "body.version",
                "a version-2 ballot body in a pseudonymous election: its ballots carry a credential's signature (version 1)",
            )
        })
    }

    fn same_election(
        &self,
        kind: &'static str,
        ballot: &urne_ballot::Ballot,
    ) -> Result<(), ElectionError> {
        if ballot.context != *self.election.context() {
            return Err(ElectionError::invalid(
                kind,
                "body.ballot.context",
                "the ballot was made for another election (its context hash differs)",
            ));
        }
        Ok(())
    }

    /// The checks of an anonymous ballot before its signature's verification (spec/23
    /// §23.13), in order: an anonymous election, this election's ballot, the bucket
    /// exists, the signature decodes for its ring, its tag is the ballot's credential.
    pub fn anonymous_statement(
        &self,
        kind: &'static str,
        decision: Decision,
        ballot: &urne_ballot::Ballot,
        signature: &AnonymousSignature,
        tracking_code: &urne_ballot::TrackingCode,
    ) -> Result<AnonymousStatement, ElectionError> {
        let sealed = self.anonymous_only(kind)?;
        self.same_election(kind, ballot)?;
        let ring = sealed.ring(kind, signature.bucket)?;
        let decoded = signature.decode(kind, sealed.snapshot.header().bucket_bits)?;
        check_tag(kind, &ballot.credential, &decoded)?;
        Ok(AnonymousStatement {
            kind,
            bucket: signature.bucket,
            ring: Arc::clone(ring),
            linking_base: sealed.linking_base,
            context: signature_context(
                decision,
                &sealed.context_id,
                &sealed.id,
                signature.bucket,
                tracking_code,
            ),
            signature: decoded,
        })
    }

    /// The stateless checks of an anonymous `ballot.cast` (spec/23 §23.13): those of
    /// [`Self::anonymous_statement`], the ring signature verified on its own, and the
    /// ballot's proofs as a batch item. A batch over one bucket uses
    /// [`Self::anonymous_cast_deferred`] instead.
    pub fn precheck_anonymous_cast(
        &self,
        cast: &AnonymousCast,
    ) -> Result<Relations, ElectionError> {
        let (statement, relations) = self.anonymous_cast_deferred(cast)?;
        statement.verify()?;
        Ok(relations)
    }

    /// The stateless checks of an anonymous `ballot.cast` but its ring signature: the
    /// statement the caller must verify (alone or in a batch over its bucket) and the
    /// ballot's proofs as a batch item. Everything cheap is checked here, before any
    /// ring work: decoding, the election, the bucket, the signature's length for the
    /// ring size, its tag, and the ballot's equations built.
    pub fn anonymous_cast_deferred(
        &self,
        cast: &AnonymousCast,
    ) -> Result<(AnonymousStatement, Relations), ElectionError> {
        let statement = self.anonymous_statement(
            "ballot.cast",
            Decision::Cast,
            &cast.ballot,
            &cast.signature,
            &cast.tracking_code(),
        )?;
        let relations = self.anonymous_ballot_relations(cast)?;
        Ok((statement, relations))
    }

    /// The equations of an anonymous cast ballot's proofs, for a batch.
    pub fn anonymous_ballot_relations(
        &self,
        cast: &AnonymousCast,
    ) -> Result<Relations, ElectionError> {
        cast.ballot
            .relations(&self.election, &cast.ballot.credential)
            .map_err(|e| ballot_err("ballot.cast", e))
    }

    /// An anonymous `ballot.cast` checked check by check, naming the first that fails.
    pub fn diagnose_anonymous_cast(&self, cast: &AnonymousCast) -> ElectionError {
        let kind = "ballot.cast";
        let statement = match self.anonymous_statement(
            kind,
            Decision::Cast,
            &cast.ballot,
            &cast.signature,
            &cast.tracking_code(),
        ) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if let Err(e) = statement.verify() {
            return e;
        }
        self.diagnose_anonymous_ballot(cast)
    }

    /// An anonymous `ballot.cast` whose ring signature verified (in its bucket's batch)
    /// and whose ballot proofs failed: the proof at fault, without verifying the ring
    /// signature again (tens to hundreds of milliseconds).
    fn diagnose_anonymous_ballot(&self, cast: &AnonymousCast) -> ElectionError {
        if let Err(e) = cast.ballot.verify(&self.election, &cast.ballot.credential) {
            return ballot_err("ballot.cast", e);
        }
        ElectionError::invalid(
            "ballot.cast",
            "body",
            "a proof of the ballot does not verify",
        )
    }

    /// The stateless checks of an anonymous `ballot.audit` (spec/23 §23.13).
    pub fn precheck_anonymous_audit(&self, audit: &AnonymousAudit) -> Result<(), ElectionError> {
        self.anonymous_audit_deferred(audit)?.verify()
    }

    /// The stateless checks of an anonymous `ballot.audit` but its ring signature, which
    /// the caller must verify (alone or in a batch over its bucket): the opening is
    /// checked first, since it costs far less than the ring.
    pub fn anonymous_audit_deferred(
        &self,
        audit: &AnonymousAudit,
    ) -> Result<AnonymousStatement, ElectionError> {
        let kind = "ballot.audit";
        let statement = self.anonymous_statement(
            kind,
            Decision::Audit,
            &audit.ballot,
            &audit.signature,
            &audit.tracking_code(),
        )?;
        check_audit(&self.election, &audit.ballot, &audit.opening)
            .map_err(|e| ElectionError::invalid(kind, "body.opening", e.to_string()))?;
        Ok(statement)
    }
    /// The ceremony outcome (joint key, verification keys).
    pub fn outcome(&self) -> &CeremonyOutcome {
        &self.outcome
    }
    /// The encrypted tally, once tallying began (computed on the first call).
    pub fn tally(&self) -> Option<&EncryptedTally> {
        self.computed_tally("tally").ok().map(|t| &t.tally)
    }
    /// The ciphertexts the trustees decrypt (spec/24 §24.4), once tallying began
    /// (computed on the first call).
    pub fn tally_ciphertexts(&self) -> Option<&[Ciphertext]> {
        self.computed_tally("tally")
            .ok()
            .map(|t| t.ciphertexts.as_slice())
    }

    /// The sums, computed by the first caller (`kind` names its record in errors).
    fn computed_tally(&self, kind: &'static str) -> Result<&SealedTally, ElectionError> {
        let Some(pending) = &self.tally else {
            return Err(ElectionError::WrongPhase {
                kind,
                phase: Phase::Closed,
                detail: "before the encrypted tally is computed".into(),
            });
        };
        if let Some(tally) = pending.computed.get() {
            return Ok(tally);
        }
        // One computation at a time; a caller that waited finds it done.
        let mut kept = pending
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tally) = pending.computed.get() {
            return Ok(tally);
        }
        let tally = sum_ballots(&self.election, &kept, pending.cast).map_err(|e| match e {
            ElectionError::Invalid { field, detail, .. } => ElectionError::Invalid {
                kind,
                field,
                detail: format!("the encrypted tally: {detail}"),
            },
            other => other,
        })?;
        *kept = Vec::new();
        Ok(pending.computed.get_or_init(|| tally))
    }

    fn listed(
        &self,
        kind: &'static str,
        credential: &CredentialKey,
    ) -> Result<PublicCredential, ElectionError> {
        let unlisted = || {
            ElectionError::invalid(
                kind,
                "body.ballot.credential",
                "the credential is not on the election's credential list",
            )
        };
        let public = PublicCredential::decode(&credential.0).map_err(|_| unlisted())?;
        self.credentials.weight_of(&public).ok_or_else(unlisted)?;
        Ok(public)
    }

    /// The stateless checks of `ballot.cast` (spec/23 §23.6): this election's ballot,
    /// from a listed credential, and the equations of its proofs and of its signature,
    /// as one batch item.
    pub fn precheck_cast(&self, cast: &CastBallot) -> Result<Relations, ElectionError> {
        let kind = "ballot.cast";
        self.pseudonymous_only(kind)?;
        if cast.ballot.context != *self.election.context() {
            return Err(ElectionError::invalid(
                kind,
                "body.ballot.context",
                "the ballot was made for another election (its context hash differs)",
            ));
        }
        let public = self.listed(kind, &cast.ballot.credential)?;
        let mut relations = cast
            .ballot
            .relations(&self.election, &cast.ballot.credential)
            .map_err(|e| ballot_err(kind, e))?;
        let signature = cast
            .signature
            .relations(
                &public,
                self.election.context(),
                Decision::Cast,
                &cast.tracking_code().0,
            )
            .map_err(|e| ElectionError::invalid(kind, "body.signature", e.to_string()))?;
        relations.extend(signature);
        Ok(relations)
    }

    /// `ballot.cast` checked proof by proof, naming the first that fails: what the board
    /// reports for a ballot its batch found bad.
    pub fn diagnose_cast(&self, cast: &CastBallot) -> ElectionError {
        let kind = "ballot.cast";
        if let Err(e) = self.pseudonymous_only(kind) {
            return e;
        }
        let public = match self.listed(kind, &cast.ballot.credential) {
            Ok(p) => p,
            Err(e) => return e,
        };
        if let Err(e) = cast.ballot.verify(&self.election, &cast.ballot.credential) {
            return ballot_err(kind, e);
        }
        if let Err(e) = cast.signature.verify(
            &public,
            self.election.context(),
            Decision::Cast,
            &cast.tracking_code().0,
        ) {
            return ElectionError::invalid(kind, "body.signature", e.to_string());
        }
        ElectionError::invalid(kind, "body", "a proof of the ballot does not verify")
    }

    /// Why a record whose equations failed (in a batch or on their own) is refused,
    /// re-checked proof by proof to name the proof at fault.
    pub fn diagnose(&self, signer: &[u8; 32], decoded: &Decoded) -> ElectionError {
        match decoded {
            Decoded::Cast(cast) => self.diagnose_cast(cast),
            Decoded::AnonymousCast(cast) => self.diagnose_anonymous_cast(cast),
            Decoded::DecryptionShares(shares) => {
                match self.verify_decryption_shares(signer, shares) {
                    Err(e) => e,
                    Ok(_) => ElectionError::invalid(
                        "tally.decryption-shares",
                        "body.shares",
                        "a share does not verify",
                    ),
                }
            }
            _ => ElectionError::invalid("election record", "body", "a proof does not verify"),
        }
    }

    /// [`Self::diagnose`] of a record whose ring signature, if it has one, was already
    /// verified ([`ElectionState::precheck_record_deferred`]'s statement): an anonymous
    /// cast is re-checked proof by proof without its ring.
    pub fn diagnose_ring_verified(&self, signer: &[u8; 32], decoded: &Decoded) -> ElectionError {
        match decoded {
            Decoded::AnonymousCast(cast) => self.diagnose_anonymous_ballot(cast),
            other => self.diagnose(signer, other),
        }
    }

    /// The stateless checks of `ballot.audit` (spec/23 §23.7).
    pub fn precheck_audit(&self, audit: &AuditRecord) -> Result<(), ElectionError> {
        let kind = "ballot.audit";
        self.pseudonymous_only(kind)?;
        if audit.ballot.context != *self.election.context() {
            return Err(ElectionError::invalid(
                kind,
                "body.ballot.context",
                "the ballot was made for another election (its context hash differs)",
            ));
        }
        let public = self.listed(kind, &audit.ballot.credential)?;
        // Audits are few (at most MAX_AUDITS_PER_CREDENTIAL a credential): checked on
        // their own, not batched.
        audit
            .signature
            .verify(
                &public,
                self.election.context(),
                Decision::Audit,
                &audit.tracking_code().0,
            )
            .map_err(|e| ElectionError::invalid(kind, "body.signature", e.to_string()))?;
        check_audit(&self.election, &audit.ballot, &audit.opening)
            .map_err(|e| ElectionError::invalid(kind, "body.opening", e.to_string()))
    }

    /// The stateless checks of `tally.decryption-shares` (spec/23 §23.8): signed by the
    /// trustee it names, one share per ciphertext of the sealed tally, each of the right
    /// form; returns the DLEQ equations of every share, for a batch.
    pub fn precheck_decryption_shares(
        &self,
        signer: &[u8; 32],
        shares: &DecryptionShares,
    ) -> Result<Relations, ElectionError> {
        let ciphertexts = self.shares_inputs(signer, shares)?;
        shares
            .relations(&self.outcome, self.election.context(), ciphertexts)
            .map_err(decryption_err)
    }

    /// `tally.decryption-shares` verified share by share: what names the entry at fault
    /// when a batch fails, and what `combine` takes.
    pub fn verify_decryption_shares(
        &self,
        signer: &[u8; 32],
        shares: &DecryptionShares,
    ) -> Result<VerifiedDecryptionShares, ElectionError> {
        let ciphertexts = self.shares_inputs(signer, shares)?;
        verify_decryption_shares(&self.outcome, self.election.context(), ciphertexts, shares)
            .map_err(decryption_err)
    }

    fn shares_inputs(
        &self,
        signer: &[u8; 32],
        shares: &DecryptionShares,
    ) -> Result<&[Ciphertext], ElectionError> {
        let kind = "tally.decryption-shares";
        let j = shares.trustee;
        if self.identities.get(usize::from(j).wrapping_sub(1)) != Some(signer) {
            return Err(ElectionError::NotAuthorized {
                kind,
                detail: format!("must be signed by the identity key of trustee {j}, whom it names"),
            });
        }
        Ok(&self.computed_tally(kind)?.ciphertexts)
    }
}

fn decryption_err(e: DecryptionError) -> ElectionError {
    let kind = "tally.decryption-shares";
    match e {
        DecryptionError::InvalidShare {
            trustee,
            ciphertext,
        } => ElectionError::invalid(
            kind,
            format!("body.shares[{ciphertext}]"),
            format!(
                "trustee {trustee}'s decryption share of ciphertext {ciphertext} does not verify"
            ),
        ),
        other => ElectionError::invalid(kind, "body", other.to_string()),
    }
}

/// The refusal of an anonymous ballot whose ring signature does not verify
/// (`body.signature`, spec/23 §23.13), alone or named by a batch over its bucket.
pub fn anonymous_signature_refusal(kind: &'static str, error: &triptych::Error) -> ElectionError {
    signature_err(kind, error)
}

/// A ring signature that does not verify, with the equation of spec/08 §8.8 that failed.
fn signature_err(kind: &'static str, e: &triptych::Error) -> ElectionError {
    ElectionError::invalid(
        kind,
        "body.signature",
        format!(
            "the ring signature does not verify ({}): {e}",
            e.spec_check()
        ),
    )
}

fn ballot_err(kind: &'static str, e: urne_ballot::BallotError) -> ElectionError {
    use urne_ballot::BallotError;
    let field = match &e {
        BallotError::Decode(d) => format!("body.ballot.{}", d.field()),
        BallotError::WrongElection => "body.ballot.context".into(),
        BallotError::WrongCredential => "body.ballot.credential".into(),
        BallotError::Shape { field, .. }
        | BallotError::SumProofKind { field, .. }
        | BallotError::Proof { field, .. }
        | BallotError::Prove { field, .. } => format!("body.ballot.{field}"),
        _ => "body.ballot".into(),
    };
    ElectionError::invalid(kind, field, e.to_string())
}

/// The latest ballot of one credential, kept compact: the tally needs only its
/// ciphertexts (64 bytes each), never its proofs.
#[derive(Clone, Debug)]
struct Latest {
    weight: u32,
    ciphertexts: Box<[[u8; 64]]>,
}

/// What an election's records have built.
pub struct ElectionState {
    id: [u8; 32],
    origin: String,
    authority: [u8; 32],
    parameters: [u8; 32],
    phase: Phase,
    manifest: Option<Manifest>,
    /// An anonymous election's eligibility (from its version-2 manifest record).
    eligibility: Option<Eligibility>,
    ceremony: Ceremony,
    assembler: ListAssembler,
    list: Option<Arc<CredentialList>>,
    /// An anonymous election's snapshot while its parts arrive.
    snapshot_parts: Option<SnapshotAssembler>,
    /// Its snapshot once complete.
    snapshot: Option<Snapshot>,
    sealed: Option<Arc<Sealed>>,
    tracking: HashSet<[u8; 32]>,
    /// Audits posted per credential.
    audits_of: HashMap<[u8; 32], u8>,
    latest: HashMap<[u8; 32], Latest>,
    cast: u64,
    audited: u64,
    decryptions: BTreeMap<u16, DecryptionShares>,
    result: Option<TallyResult>,
}

fn wrong_phase(kind: &'static str, phase: Phase, detail: impl Into<String>) -> ElectionError {
    ElectionError::WrongPhase {
        kind,
        phase,
        detail: detail.into(),
    }
}

impl ElectionState {
    /// The state of an election just opened: `id` its context id, `authority` the
    /// signer of its `context.open`, `parameters` that record's parameters hash, and
    /// `origin` the board's origin (every ballot proof binds it).
    pub fn new(id: [u8; 32], authority: [u8; 32], parameters: [u8; 32], origin: &str) -> Self {
        Self {
            id,
            origin: origin.to_owned(),
            authority,
            parameters,
            phase: Phase::Setup,
            manifest: None,
            eligibility: None,
            ceremony: Ceremony::default(),
            assembler: ListAssembler::default(),
            list: None,
            snapshot_parts: None,
            snapshot: None,
            sealed: None,
            tracking: HashSet::new(),
            audits_of: HashMap::new(),
            latest: HashMap::new(),
            cast: 0,
            audited: 0,
            decryptions: BTreeMap::new(),
            result: None,
        }
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The election's authority.
    pub fn authority(&self) -> &[u8; 32] {
        &self.authority
    }
    /// The manifest, once posted.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }
    /// The ceremony.
    pub fn ceremony(&self) -> &Ceremony {
        &self.ceremony
    }
    /// The credential list, once complete.
    pub fn credential_list(&self) -> Option<&CredentialList> {
        self.list.as_deref()
    }
    /// An anonymous election's eligibility; None for a pseudonymous election (or before
    /// the manifest).
    pub fn eligibility(&self) -> Option<&Eligibility> {
        self.eligibility.as_ref()
    }
    /// An anonymous election's snapshot, once complete.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }
    /// The sealed parameters (from the opening of the vote on).
    pub fn sealed(&self) -> Option<&Arc<Sealed>> {
        self.sealed.as_ref()
    }
    /// Ballots cast (revotes included) and audits posted.
    pub fn ballot_counts(&self) -> (u64, u64) {
        (self.cast, self.audited)
    }
    /// The decryption shares posted, by trustee.
    pub fn decryption_shares(&self) -> &BTreeMap<u16, DecryptionShares> {
        &self.decryptions
    }
    /// The published result.
    pub fn result(&self) -> Option<&TallyResult> {
        self.result.as_ref()
    }

    fn authority_only(&self, kind: &'static str, signer: &[u8; 32]) -> Result<(), ElectionError> {
        if signer == &self.authority {
            Ok(())
        } else {
            Err(ElectionError::NotAuthorized {
                kind,
                detail: "must be signed by the election's authority".into(),
            })
        }
    }

    fn trustee_only(
        &self,
        kind: &'static str,
        signer: &[u8; 32],
        j: u16,
    ) -> Result<(), ElectionError> {
        match self.ceremony.identity(j) {
            Some(id) if id == signer => Ok(()),
            Some(_) => Err(ElectionError::NotAuthorized {
                kind,
                detail: format!("must be signed by the identity key of trustee {j}, whom it names"),
            }),
            None => Err(ElectionError::invalid(
                kind,
                "body.trustee",
                format!("the ceremony has no trustee {j}"),
            )),
        }
    }

    fn in_phase(&self, kind: &'static str, phase: Phase) -> Result<(), ElectionError> {
        if self.phase == phase {
            Ok(())
        } else {
            Err(wrong_phase(
                kind,
                self.phase,
                format!("outside the {phase} phase"),
            ))
        }
    }

    fn in_round(&self, kind: &'static str, expected: u8) -> Result<(), ElectionError> {
        self.in_phase(kind, Phase::Ceremony)?;
        if self.ceremony.round == expected {
            Ok(())
        } else {
            Err(wrong_phase(
                kind,
                self.phase,
                format!(
                    "in ceremony round {} (it belongs to round {expected})",
                    self.ceremony.round
                ),
            ))
        }
    }

    /// [`Self::precheck`], keeping what it checked and against which parameters: the
    /// record for [`Self::check_prechecked`], and the equations to batch, if any. The
    /// caller must still verify the equations before it applies the record.
    pub fn precheck_record(
        sealed: Option<Arc<Sealed>>,
        signer: &[u8; 32],
        decoded: Decoded,
    ) -> Result<(PrecheckedRecord, Option<Relations>), ElectionError> {
        let relations = Self::precheck(sealed.as_deref(), signer, &decoded)?;
        Ok((PrecheckedRecord { decoded, sealed }, relations))
    }

    /// [`Self::precheck_record`] with an anonymous ballot's ring signature left out: its
    /// statement is returned instead, for a batch over its bucket (spec/12 §12.5,
    /// spec/23 §23.13). The caller must verify the equations and the statement before it
    /// applies the record.
    pub fn precheck_record_deferred(
        sealed: Option<Arc<Sealed>>,
        signer: &[u8; 32],
        decoded: Decoded,
    ) -> Result<
        (
            PrecheckedRecord,
            Option<Relations>,
            Option<AnonymousStatement>,
        ),
        ElectionError,
    > {
        let need = |kind: &'static str| {
            sealed
                .as_deref()
                .ok_or_else(|| wrong_phase(kind, Phase::Registration, "before voting opens"))
        };
        let (relations, statement) = match &decoded {
            Decoded::AnonymousCast(cast) => {
                let (statement, relations) = need("ballot.cast")?.anonymous_cast_deferred(cast)?;
                (Some(relations), Some(statement))
            }
            Decoded::AnonymousAudit(audit) => (
                None,
                Some(need("ballot.audit")?.anonymous_audit_deferred(audit)?),
            ),
            other => (Self::precheck(sealed.as_deref(), signer, other)?, None),
        };
        Ok((PrecheckedRecord { decoded, sealed }, relations, statement))
    }

    /// The stateless checks that need the sealed parameters (ballot proofs, audits,
    /// decryption shares); the equations to batch, if any. Records of other kinds pass.
    pub fn precheck(
        sealed: Option<&Sealed>,
        signer: &[u8; 32],
        decoded: &Decoded,
    ) -> Result<Option<Relations>, ElectionError> {
        let need = |kind: &'static str| {
            sealed.ok_or_else(|| wrong_phase(kind, Phase::Registration, "before voting opens"))
        };
        match decoded {
            Decoded::Cast(cast) => need("ballot.cast")?.precheck_cast(cast).map(Some),
            Decoded::AnonymousCast(cast) => {
                need("ballot.cast")?.precheck_anonymous_cast(cast).map(Some)
            }
            Decoded::Audit(audit) => need("ballot.audit")?.precheck_audit(audit).map(|()| None),
            Decoded::AnonymousAudit(audit) => need("ballot.audit")?
                .precheck_anonymous_audit(audit)
                .map(|()| None),
            Decoded::DecryptionShares(shares) => need("tally.decryption-shares")?
                .precheck_decryption_shares(signer, shares)
                .map(Some),
            _ => Ok(None),
        }
    }

    /// The ordered checks of a decoded record against the state (after
    /// [`Self::precheck`]); the keys it takes.
    pub fn check(&self, signer: &[u8; 32], decoded: &Decoded) -> Result<Vec<Key>, ElectionError> {
        match decoded {
            Decoded::Manifest(m) => self.check_manifest(signer, m).map(|()| Vec::new()),
            Decoded::CeremonyOpen(o) => self.check_ceremony_open(signer, o).map(|()| Vec::new()),
            Decoded::Register(r) => self.check_register(signer, r).map(|()| Vec::new()),
            Decoded::CommitmentHash(h) => self
                .check_dealer(
                    "ceremony.commitment-hash",
                    signer,
                    h.dealer,
                    round::COMMIT,
                    self.ceremony.hashes.contains_key(&h.dealer),
                )
                .map(|()| Vec::new()),
            Decoded::Commitments(c) => self
                .check_dealer(
                    "ceremony.commitments",
                    signer,
                    c.dealer,
                    round::REVEAL,
                    self.ceremony.commitments.contains_key(&c.dealer),
                )
                .map(|()| Vec::new()),
            Decoded::Shares(s) => self
                .check_dealer(
                    "ceremony.shares",
                    signer,
                    s.dealer,
                    round::DEAL,
                    self.ceremony.shares.contains_key(&s.dealer),
                )
                .map(|()| Vec::new()),
            Decoded::Complaint(c) => self.check_complaint(signer, c).map(|()| Vec::new()),
            Decoded::Answer(a) => self.check_answer(signer, a).map(|()| Vec::new()),
            Decoded::CloseRound(c) => self.check_close_round(signer, *c).map(|()| Vec::new()),
            Decoded::Credentials(p) => self.check_credentials(signer, p).map(|()| Vec::new()),
            Decoded::Snapshot(s) => self.check_snapshot(signer, s).map(|()| Vec::new()),
            Decoded::SnapshotPart(p) => self.check_snapshot_part(signer, p).map(|()| Vec::new()),
            Decoded::Cast(c) => self.check_cast(c),
            Decoded::AnonymousCast(c) => self.check_anonymous_cast(c),
            Decoded::Audit(a) => self.check_audit(a),
            Decoded::AnonymousAudit(a) => self.check_anonymous_audit(a),
            Decoded::DecryptionShares(s) => self.check_decryption_shares(signer, s),
            Decoded::Result(r) => self.check_result(signer, r).map(|()| Vec::new()),
        }
    }

    /// `election.manifest` (spec/23 §23.2).
    pub fn check_manifest(
        &self,
        signer: &[u8; 32],
        record: &ManifestRecord,
    ) -> Result<(), ElectionError> {
        let kind = "election.manifest";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Setup)?;
        if self.manifest.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "body",
                "the election already has its manifest",
            ));
        }
        if record.parameters_hash() != self.parameters {
            return Err(ElectionError::invalid(
                kind,
                "body.manifest",
                "the manifest does not hash to the parameters hash of the election's context.open",
            ));
        }
        // spec/23 §23.2: a manifest nobody could cast a ballot of is refused now, not
        // found out when the first voter tries.
        let ballot = record.manifest.ballot_len();
        let room = urne_record::MAX_RECORD_BYTES
            - urne_record::ENVELOPE_OVERHEAD
            - crate::body::CAST_BODY_OVERHEAD;
        if ballot > room {
            return Err(ElectionError::invalid(
                kind,
                "body.manifest",
                format!(
                    "its ballots would be {ballot} bytes; a ballot.cast record holds at most {room}"
                ),
            ));
        }
        Ok(())
    }

    /// `ceremony.open` (spec/23 §23.4): round 0, or round 1 to replace a roster some
    /// trustee never registered under.
    pub fn check_ceremony_open(
        &self,
        signer: &[u8; 32],
        open: &CeremonyOpen,
    ) -> Result<(), ElectionError> {
        let kind = "ceremony.open";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Ceremony)?;
        // The board refuses a byte-identical record as a duplicate entry; the fold must
        // refuse it too, or a replay would accept a log the board never could have built.
        if self.ceremony.open.as_ref() == Some(open) {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body".into(),
                detail: "the ceremony is already open with exactly this roster".into(),
            });
        }
        if self.ceremony.round > round::REGISTER {
            return Err(wrong_phase(
                kind,
                self.phase,
                format!(
                    "in ceremony round {} (only in rounds 0 and 1)",
                    self.ceremony.round
                ),
            ));
        }
        Ok(())
    }

    /// `ceremony.register`.
    pub fn check_register(
        &self,
        signer: &[u8; 32],
        r: &TrusteeRegistration,
    ) -> Result<(), ElectionError> {
        let kind = "ceremony.register";
        self.in_round(kind, round::REGISTER)?;
        self.trustee_only(kind, signer, r.trustee)?;
        if self.ceremony.registrations.contains_key(&r.trustee) {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.trustee".into(),
                detail: format!("trustee {} has already registered", r.trustee),
            });
        }
        Ok(())
    }

    fn check_dealer(
        &self,
        kind: &'static str,
        signer: &[u8; 32],
        dealer: u16,
        expected: u8,
        posted: bool,
    ) -> Result<(), ElectionError> {
        self.in_round(kind, expected)?;
        self.trustee_only(kind, signer, dealer)?;
        if posted {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.dealer".into(),
                detail: format!("dealer {dealer} has already posted its {kind}"),
            });
        }
        if !self.ceremony.is_active_dealer(dealer) {
            return Err(ElectionError::invalid(
                kind,
                "body.dealer",
                format!("dealer {dealer} missed an earlier round and is disqualified"),
            ));
        }
        Ok(())
    }

    /// `ceremony.complaint`.
    pub fn check_complaint(&self, signer: &[u8; 32], c: &Complaint) -> Result<(), ElectionError> {
        let kind = "ceremony.complaint";
        self.in_round(kind, round::COMPLAIN)?;
        self.trustee_only(kind, signer, c.complainer)?;
        if c.dealer == c.complainer || !self.ceremony.shares.contains_key(&c.dealer) {
            return Err(ElectionError::invalid(
                kind,
                "body.dealer",
                format!("dealer {} posted no shares to complain about", c.dealer),
            ));
        }
        if self
            .ceremony
            .complaints
            .contains_key(&(c.dealer, c.complainer))
        {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.dealer".into(),
                detail: format!(
                    "trustee {} has already complained about dealer {}",
                    c.complainer, c.dealer
                ),
            });
        }
        Ok(())
    }

    /// `ceremony.answer`.
    pub fn check_answer(
        &self,
        signer: &[u8; 32],
        a: &ComplaintAnswer,
    ) -> Result<(), ElectionError> {
        let kind = "ceremony.answer";
        self.in_round(kind, round::ANSWER)?;
        self.trustee_only(kind, signer, a.dealer)?;
        if !self
            .ceremony
            .complaints
            .contains_key(&(a.dealer, a.recipient))
        {
            return Err(ElectionError::invalid(
                kind,
                "body.recipient",
                format!(
                    "trustee {} made no complaint against dealer {}",
                    a.recipient, a.dealer
                ),
            ));
        }
        if self.ceremony.answers.contains_key(&(a.dealer, a.recipient)) {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.recipient".into(),
                detail: "this complaint is already answered".into(),
            });
        }
        Ok(())
    }

    /// `ceremony.close-round` (spec/23 §23.4): the current round, 2 to 6.
    pub fn check_close_round(&self, signer: &[u8; 32], c: CloseRound) -> Result<(), ElectionError> {
        let kind = "ceremony.close-round";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Ceremony)?;
        let current = self.ceremony.round;
        if !(round::COMMIT..=round::ANSWER).contains(&current) {
            return Err(wrong_phase(
                kind,
                self.phase,
                format!("in ceremony round {current} (rounds 2 to 6 are closed this way)"),
            ));
        }
        if c.round != current {
            return Err(ElectionError::invalid(
                kind,
                "body.round",
                format!("round {} is not the current round {current}", c.round),
            ));
        }
        Ok(())
    }

    /// `election.credentials` (spec/23 §23.5).
    pub fn check_credentials(
        &self,
        signer: &[u8; 32],
        part: &CredentialListPart,
    ) -> Result<(), ElectionError> {
        let kind = "election.credentials";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Registration)?;
        if self.eligibility.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "kind",
                "an anonymous election takes its voters from a registry snapshot, not a credential list",
            ));
        }
        if self.list.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "body",
                "the credential list is complete; a second list is refused",
            ));
        }
        self.assembler.check(part).map_err(credential_err)
    }

    fn anonymous_only(&self, kind: &'static str) -> Result<&Eligibility, ElectionError> {
        self.eligibility.as_ref().ok_or_else(|| {
            ElectionError::invalid(
                kind,
                "kind",
                "a pseudonymous election takes its voters from a credential list, not a registry snapshot",
            )
        })
    }

    /// `election.snapshot` (spec/23 §23.12): in an anonymous election, once, of its
    /// registry, cosigned, above the eligibility's floors, and with room in a cast
    /// record for a ballot and a signature over its buckets.
    pub fn check_snapshot(
        &self,
        signer: &[u8; 32],
        signed: &SignedSnapshot,
    ) -> Result<(), ElectionError> {
        let kind = "election.snapshot";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Registration)?;
        let eligibility = self.anonymous_only(kind)?;
        if self.snapshot_parts.is_some() || self.snapshot.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "kind",
                "the election already has its snapshot",
            ));
        }
        eligibility
            .snapshot_policy()
            .check(signed)
            .map_err(|e| registry_err(kind, e))?;
        let bits = signed.header.bucket_bits;
        let signature = crate::anonymous::parameters_for(bits)
            .map_err(|e| ElectionError::invalid(kind, "body.bucket_bits", e.to_string()))?
            .signature_len();
        let ballot = self.manifest.as_ref().map_or(0, Manifest::ballot_len);
        let room = urne_record::MAX_RECORD_BYTES
            - urne_record::ENVELOPE_OVERHEAD
            - crate::anonymous::CAST_BODY_FIXED;
        if ballot + signature > room {
            return Err(ElectionError::invalid(
                kind,
                "body.bucket_bits",
                format!(
                    "a ballot of {ballot} bytes and a signature over buckets of 2^{bits} keys ({signature} bytes) exceed the {room} bytes a ballot.cast record holds"
                ),
            ));
        }
        Ok(())
    }

    /// `election.snapshot-part` (spec/23 §23.12): the next part of the snapshot.
    pub fn check_snapshot_part(
        &self,
        signer: &[u8; 32],
        part: &SnapshotPart,
    ) -> Result<(), ElectionError> {
        let kind = "election.snapshot-part";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Registration)?;
        self.anonymous_only(kind)?;
        if self.snapshot.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "body",
                "the snapshot is complete; a further part is refused",
            ));
        }
        let assembler = self.snapshot_parts.as_ref().ok_or_else(|| {
            ElectionError::invalid(kind, "kind", "post the snapshot before its parts")
        })?;
        assembler.check(part).map_err(|e| registry_err(kind, e))
    }

    fn sealed_or(&self, kind: &'static str) -> Result<&Sealed, ElectionError> {
        self.sealed
            .as_deref()
            .ok_or_else(|| wrong_phase(kind, self.phase, "before voting opens"))
    }

    /// `ballot.cast`, against the state (spec/23 §23.6); its proofs are
    /// [`Sealed::precheck_cast`]'s.
    pub fn check_cast(&self, cast: &CastBallot) -> Result<Vec<Key>, ElectionError> {
        self.check_cast_prechecked(cast, None)
    }

    /// [`Self::check`] of a record [`Self::precheck_record`] passed: a ballot's
    /// credential, found on the list precheck read, is not decoded and searched for again
    /// when the election's list is still that one. Only precheck makes a
    /// [`PrecheckedRecord`], so this cannot skip a search no precheck made.
    pub fn check_prechecked(
        &self,
        signer: &[u8; 32],
        prechecked: &PrecheckedRecord,
    ) -> Result<Vec<Key>, ElectionError> {
        match &prechecked.decoded {
            Decoded::Cast(cast) => self.check_cast_prechecked(cast, prechecked.sealed.as_deref()),
            other => self.check(signer, other),
        }
    }

    fn check_cast_prechecked(
        &self,
        cast: &CastBallot,
        prechecked: Option<&Sealed>,
    ) -> Result<Vec<Key>, ElectionError> {
        let kind = "ballot.cast";
        self.in_phase(kind, Phase::Voting)?;
        let sealed = self.sealed_or(kind)?;
        sealed.pseudonymous_only(kind)?;
        // The same list object: the one precheck found the credential on.
        let listed_then =
            prechecked.is_some_and(|p| Arc::ptr_eq(&p.credentials, &sealed.credentials));
        if !listed_then {
            sealed.listed(kind, &cast.ballot.credential)?;
        }
        self.unused_tracking_code(kind, &cast.tracking_code().0)
    }

    fn unused_tracking_code(
        &self,
        kind: &'static str,
        code: &[u8; 32],
    ) -> Result<Vec<Key>, ElectionError> {
        if self.tracking.contains(code) {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.ballot".into(),
                detail: "this ballot (its tracking code) is already on the board, cast or audited"
                    .into(),
            });
        }
        Ok(vec![Key {
            space: TRACKING_CODE_KEY,
            key: code.to_vec(),
        }])
    }

    /// An anonymous `ballot.cast`, against the state (spec/23 §23.13): keyed by its tag,
    /// the ballot's credential; its signature and proofs are
    /// [`Sealed::precheck_anonymous_cast`]'s.
    pub fn check_anonymous_cast(&self, cast: &AnonymousCast) -> Result<Vec<Key>, ElectionError> {
        let kind = "ballot.cast";
        self.in_phase(kind, Phase::Voting)?;
        self.sealed_or(kind)?.anonymous_only(kind)?;
        self.unused_tracking_code(kind, &cast.tracking_code().0)
    }

    /// `ballot.audit`, against the state (spec/23 §23.7).
    pub fn check_audit(&self, audit: &AuditRecord) -> Result<Vec<Key>, ElectionError> {
        let kind = "ballot.audit";
        self.in_phase(kind, Phase::Voting)?;
        self.sealed_or(kind)?.pseudonymous_only(kind)?;
        self.audit_keys(&audit.tracking_code().0, &audit.ballot.credential.0)
    }

    /// An anonymous `ballot.audit`, against the state (spec/23 §23.13): the quota is the
    /// tag's.
    pub fn check_anonymous_audit(&self, audit: &AnonymousAudit) -> Result<Vec<Key>, ElectionError> {
        let kind = "ballot.audit";
        self.in_phase(kind, Phase::Voting)?;
        self.sealed_or(kind)?.anonymous_only(kind)?;
        self.audit_keys(&audit.tracking_code().0, &audit.ballot.credential.0)
    }

    fn audit_keys(
        &self,
        code: &[u8; 32],
        credential: &[u8; 32],
    ) -> Result<Vec<Key>, ElectionError> {
        let kind = "ballot.audit";
        let code = *code;
        let credential = *credential;
        if self.tracking.contains(&code) {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.ballot".into(),
                detail: "this ballot (its tracking code) is already on the board, cast or audited"
                    .into(),
            });
        }
        let rank = self.audits_of.get(&credential).copied().unwrap_or(0);
        if rank >= MAX_AUDITS_PER_CREDENTIAL {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.ballot.credential".into(),
                detail: format!(
                    "this credential already posted its {MAX_AUDITS_PER_CREDENTIAL} audits"
                ),
            });
        }
        let mut slot = credential.to_vec();
        slot.push(rank);
        Ok(vec![
            Key {
                space: TRACKING_CODE_KEY,
                key: code.to_vec(),
            },
            Key {
                space: AUDIT_SLOT_KEY,
                key: slot,
            },
        ])
    }

    /// `tally.decryption-shares`, against the state (spec/23 §23.8); the shares
    /// themselves are [`Sealed::precheck_decryption_shares`]'s.
    pub fn check_decryption_shares(
        &self,
        signer: &[u8; 32],
        shares: &DecryptionShares,
    ) -> Result<Vec<Key>, ElectionError> {
        let kind = "tally.decryption-shares";
        self.in_phase(kind, Phase::Tallying)?;
        self.trustee_only(kind, signer, shares.trustee)?;
        if self.decryptions.contains_key(&shares.trustee) {
            return Err(ElectionError::AlreadyUsed {
                kind,
                field: "body.trustee".into(),
                detail: format!(
                    "trustee {} has already posted its decryption shares",
                    shares.trustee
                ),
            });
        }
        Ok(vec![Key {
            space: TRUSTEE_SHARES_KEY,
            key: shares.trustee.to_be_bytes().to_vec(),
        }])
    }

    /// `tally.result` (spec/23 §23.9): the checks of spec/24 §24.6 against the sealed
    /// encrypted tally and the shares on the board.
    pub fn check_result(
        &self,
        signer: &[u8; 32],
        result: &TallyResult,
    ) -> Result<(), ElectionError> {
        let kind = "tally.result";
        self.authority_only(kind, signer)?;
        self.in_phase(kind, Phase::Tallying)?;
        if self.result.is_some() {
            return Err(ElectionError::invalid(
                kind,
                "body",
                "the result is already on the board",
            ));
        }
        let sealed = self.sealed_or(kind)?;
        let tally = sealed.computed_tally(kind)?;
        let invalid = |field: String, detail: String| ElectionError::invalid(kind, field, detail);
        if result.tally.context != tally.tally.context {
            return Err(invalid(
                "body.context".into(),
                "a tally of another election".into(),
            ));
        }
        let compare = |field: &str, expected: u64, found: u64| {
            if expected == found {
                Ok(())
            } else {
                Err(invalid(
                    format!("body.{field}"),
                    format!("the board's ballots give {expected}, the result says {found}"),
                ))
            }
        };
        compare("ballots", tally.tally.ballots, result.tally.ballots)?;
        compare("superseded", tally.superseded, result.superseded)?;
        compare("weight", tally.tally.weight, result.tally.weight)?;
        if result.tally.contests.len() != tally.tally.contests.len() {
            return Err(invalid(
                "body.contests".into(),
                format!("the manifest has {} contests", tally.tally.contests.len()),
            ));
        }
        for (i, (mine, theirs)) in tally
            .tally
            .contests
            .iter()
            .zip(&result.tally.contests)
            .enumerate()
        {
            if mine.len() != theirs.len() || result.counts.get(i).map(Vec::len) != Some(mine.len())
            {
                return Err(invalid(
                    format!("body.contests[{i}]"),
                    format!("contest {i} has {} entries", mine.len()),
                ));
            }
            for (k, (a, b)) in mine.iter().zip(theirs).enumerate() {
                if a != b {
                    return Err(invalid(
                        format!("body.contests[{i}].entries[{k}].sum"),
                        "not the sum of the counted ballots on the board".into(),
                    ));
                }
            }
        }
        // spec/24 §24.6 steps 4-5, urne-tally's own: the shares the result names, their
        // combination, each count within its bound.
        let shares: Vec<DecryptionShares> = self.decryptions.values().cloned().collect();
        check_opening(
            sealed.election(),
            &sealed.outcome,
            &tally.tally,
            &shares,
            &result.trustees,
            &result.counts,
        )
        .map_err(|e| result_error(sealed.election().manifest(), e))?;
        // Step 6: each budget contest's funded projects (spec/26).
        urne_tally::check_fundings(
            sealed.election().manifest(),
            &result.counts,
            &result.fundings,
        )
        .map_err(|e| result_error(sealed.election().manifest(), e))
    }

    /// Whether `context.phase` may move the election to `to` (spec/23 §23.3).
    pub fn check_phase(&self, to: Phase) -> Result<(), ElectionError> {
        let kind = "context.phase";
        if self.phase.next() != Some(to) {
            return Err(wrong_phase(
                kind,
                self.phase,
                format!("to move to {to} (one step forward at a time)"),
            ));
        }
        let refuse = |detail: &str| Err(ElectionError::invalid(kind, "body", detail.to_owned()));
        match to {
            Phase::Ceremony if self.manifest.is_none() => {
                refuse("the ceremony cannot start before the manifest is on the board")
            }
            Phase::Registration => match self.ceremony.outcome() {
                Some(Ok(_)) => Ok(()),
                Some(Err(fault)) => refuse(&format!(
                    "the ceremony failed ({fault}); the election has no key"
                )),
                None => refuse("registration cannot start before the key ceremony is complete"),
            },
            Phase::Voting if self.eligibility.is_some() && self.snapshot.is_none() => {
                refuse("voting cannot open before the registry snapshot is complete on the board")
            }
            Phase::Voting if self.eligibility.is_none() && self.list.is_none() => {
                refuse("voting cannot open before the credential list is complete on the board")
            }
            Phase::Published if self.result.is_none() => {
                refuse("the election cannot be published before its tally.result is on the board")
            }
            _ => Ok(()),
        }
    }

    /// Applies a move checked by [`Self::check_phase`]: opening the vote seals the
    /// election's parameters; tallying computes the encrypted tally and seals it.
    pub fn apply_phase(&mut self, to: Phase) -> Result<(), ElectionError> {
        match to {
            Phase::Voting => self.seal_election()?,
            Phase::Tallying => self.seal_tally()?,
            _ => {}
        }
        self.phase = to;
        Ok(())
    }

    fn seal_election(&mut self) -> Result<(), ElectionError> {
        let kind = "context.phase";
        let not_ready =
            || ElectionError::invalid(kind, "body", "the election is not ready to vote");
        let (Some(manifest), Some(Ok(outcome)), Some(open)) = (
            &self.manifest,
            self.ceremony.outcome(),
            self.ceremony.open(),
        ) else {
            return Err(not_ready());
        };
        // An anonymous election seals its snapshot, whose id stands for the list's root
        // in the context hash (spec/21 §21.3), and an empty list.
        let (list, anonymous) = match (&self.eligibility, &self.list, &self.snapshot) {
            (None, Some(list), _) => (list.clone(), None),
            (Some(_), _, Some(snapshot)) => (
                Arc::new(
                    CredentialList::new(Vec::new())
                        .map_err(|e| ElectionError::invalid(kind, "body", e.to_string()))?,
                ),
                Some(Arc::new(SealedSnapshot::new(snapshot.clone(), &self.id))),
            ),
            _ => return Err(not_ready()),
        };
        let root = match &anonymous {
            Some(a) => a.id,
            None => list.root().0,
        };
        let election = Election::new(ContextInputs {
            manifest,
            joint_key: &outcome.joint_key,
            credential_root: &root,
            board_origin: &self.origin,
            context_id: &self.id,
        })
        .map_err(|e| ElectionError::invalid(kind, "body", e.to_string()))?;
        let entries = entry_maxima(election.manifest()).iter().map(Vec::len).sum();
        self.sealed = Some(Arc::new(Sealed {
            election: Arc::new(election),
            credentials: list,
            anonymous,
            outcome: outcome.clone(),
            identities: open.identities.clone(),
            entries,
            tally: None,
        }));
        Ok(())
    }

    /// Freezes the latest ballot of each credential for the encrypted tally (spec/24
    /// §24.3), computed on first use ([`PendingTally`]).
    fn seal_tally(&mut self) -> Result<(), ElectionError> {
        let kind = "context.phase";
        let Some(sealed) = self.sealed.clone() else {
            return Err(ElectionError::invalid(kind, "body", "voting never opened"));
        };
        // Nothing reads the ballots after this: they move into the sealed tally.
        let kept: Vec<Latest> = std::mem::take(&mut self.latest).into_values().collect();
        self.sealed = Some(Arc::new(Sealed {
            election: sealed.election.clone(),
            credentials: sealed.credentials.clone(),
            anonymous: sealed.anonymous.clone(),
            outcome: sealed.outcome.clone(),
            identities: sealed.identities.clone(),
            entries: sealed.entries,
            tally: Some(PendingTally {
                kept: Mutex::new(kept),
                cast: self.cast,
                computed: OnceLock::new(),
            }),
        }));
        Ok(())
    }

    /// Applies a record that passed its checks, at log index `index`. Ballots are not
    /// decoded again: only their credential and ciphertexts are read from the bytes
    /// the checks accepted.
    pub fn apply(&mut self, kind: Kind, body: &[u8], _index: u64) -> Result<(), ElectionError> {
        let kind_name = name(kind).unwrap_or("election record");
        match kind {
            kinds::BALLOT_CAST => return self.apply_cast(body),
            kinds::BALLOT_AUDIT => {
                let code = tracking_code_of_body(kind, body)?;
                let credential = skim_ballot_of_body(kind, body)?.credential;
                self.tracking.insert(code.0);
                let rank = self.audits_of.entry(credential).or_insert(0);
                *rank = rank.saturating_add(1);
                self.audited += 1;
                return Ok(());
            }
            _ => {}
        }
        let decoded = decode(kind, body).ok_or_else(|| {
            ElectionError::invalid(kind_name, "kind", "not an election record kind")
        })??;
        let id = self.id;
        let c = &mut self.ceremony;
        match decoded {
            Decoded::Manifest(m) => {
                self.manifest = Some(m.manifest);
                self.eligibility = m.eligibility;
            }
            Decoded::CeremonyOpen(open) => {
                // A second opening (in round 1) replaces the roster: registrations
                // under the old one do not carry over.
                c.registrations.clear();
                c.open = Some(open);
                c.round = round::REGISTER;
            }
            Decoded::Register(r) => {
                c.registrations.insert(r.trustee, r);
                c.advance_if_complete(id);
            }
            Decoded::CommitmentHash(h) => {
                c.hashes.insert(h.dealer, h);
                c.advance_if_complete(id);
            }
            Decoded::Commitments(x) => {
                c.commitments.insert(x.dealer, x);
                c.advance_if_complete(id);
            }
            Decoded::Shares(s) => {
                c.shares.insert(s.dealer, s);
                c.advance_if_complete(id);
            }
            Decoded::Complaint(x) => {
                c.complaints.insert((x.dealer, x.complainer), x);
            }
            Decoded::Answer(a) => {
                c.answers.insert((a.dealer, a.recipient), a);
                c.advance_if_complete(id);
            }
            Decoded::CloseRound(_) => c.close(id),
            Decoded::Credentials(part) => {
                self.assembler.push(&part).map_err(credential_err)?;
                if self.assembler.is_complete() {
                    let assembled = std::mem::take(&mut self.assembler);
                    self.list = Some(Arc::new(assembled.finish().map_err(credential_err)?));
                }
            }
            Decoded::Snapshot(signed) => {
                self.snapshot_parts = Some(SnapshotAssembler::new(*signed));
            }
            Decoded::SnapshotPart(part) => {
                let kind = "election.snapshot-part";
                let assembler = self.snapshot_parts.as_mut().ok_or_else(|| {
                    ElectionError::invalid(kind, "kind", "post the snapshot before its parts")
                })?;
                assembler.push(&part).map_err(|e| registry_err(kind, e))?;
                if assembler.is_complete()
                    && let Some(assembler) = self.snapshot_parts.take()
                {
                    self.snapshot = Some(assembler.finish().map_err(|e| registry_err(kind, e))?);
                }
            }
            Decoded::DecryptionShares(s) => {
                self.decryptions.insert(s.trustee, s);
            }
            Decoded::Result(r) => self.result = Some(*r),
            Decoded::Cast(_)
            | Decoded::Audit(_)
            | Decoded::AnonymousCast(_)
            | Decoded::AnonymousAudit(_) => {}
        }
        Ok(())
    }

    fn apply_cast(&mut self, body: &[u8]) -> Result<(), ElectionError> {
        let kind = "ballot.cast";
        let code = tracking_code_of_body(kinds::BALLOT_CAST, body)?;
        let urne_ballot::BallotSkim {
            credential,
            ciphertexts,
        } = skim_ballot_of_body(kinds::BALLOT_CAST, body)?;
        // The sums zip each ballot's ciphertexts with the manifest's entries: a ballot
        // with another count would have entries dropped or shifted without a word. The
        // precheck already refuses one; this holds for a log applied unchecked.
        let entries = self
            .sealed
            .as_ref()
            .map(|s| s.entries)
            .ok_or_else(|| wrong_phase(kind, self.phase, "before voting opens"))?;
        if ciphertexts.len() != entries {
            return Err(ElectionError::invalid(
                kind,
                "body.ballot",
                format!(
                    "{} ciphertexts, the manifest has {entries} entries",
                    ciphertexts.len()
                ),
            ));
        }
        // By bytes: the list is sorted by encoding, and decoding the point would cost
        // a decompression per ballot on the board's applier. A tag weighs 1 (spec/23
        // §23.11).
        let weight = if self.eligibility.is_some() {
            Some(1)
        } else {
            self.list.as_ref().and_then(|l| {
                let entries = l.entries();
                entries
                    .binary_search_by(|e| e.credential.to_bytes().cmp(&credential))
                    .ok()
                    .map(|i| entries[i].weight)
            })
        }
        .ok_or_else(|| ElectionError::invalid(kind, "body.ballot.credential", "not on the list"))?;
        self.tracking.insert(code.0);
        self.cast += 1;
        self.latest.insert(
            credential,
            Latest {
                weight,
                ciphertexts: ciphertexts.into_boxed_slice(),
            },
        );
        Ok(())
    }

    /// Decrypts the tally from the decryption shares on the board (the t
    /// lowest-numbered trustees'), for the authority to post as `tally.result`.
    pub fn decrypt_result(&self) -> Result<TallyResult, ElectionError> {
        let kind = "tally.result";
        let sealed = self.sealed_or(kind)?;
        let tally = sealed.computed_tally(kind)?;
        let t = usize::from(sealed.outcome.threshold);
        let shares: Vec<DecryptionShares> = self.decryptions.values().take(t).cloned().collect();
        decrypt_sums(
            sealed.election(),
            &sealed.outcome,
            &tally.tally,
            tally.superseded,
            &shares,
        )
        .map_err(|e| result_error(sealed.election().manifest(), e))
    }
}

/// A refusal of urne-tally's result checks as the `tally.result` field it concerns.
fn result_error(manifest: &Manifest, e: TallyError) -> ElectionError {
    let kind = "tally.result";
    let field = match &e {
        TallyError::WrongTrusteeCount { .. }
        | TallyError::MissingShares { .. }
        | TallyError::InvalidShare { .. }
        | TallyError::Shares(_) => "body.trustees".to_owned(),
        TallyError::Count { at, .. }
        | TallyError::CountAboveBound { at, .. }
        | TallyError::NoCountWithinBound { at, .. } => {
            let entry = match at.entry {
                urne_tally::Entry::Option(k) => k,
                urne_tally::Entry::Blank => manifest
                    .contests()
                    .get(at.contest)
                    .map_or(0, |c| c.options.len()),
            };
            format!("body.contests[{}].entries[{entry}].count", at.contest)
        }
        TallyError::BoundTooLarge { .. } => "body.weight".to_owned(),
        TallyError::TallyShape { .. } => "body.contests".to_owned(),
        TallyError::FundingShape { .. } => "body.fundings".to_owned(),
        TallyError::Funding { funding, field, .. } => format!("body.fundings[{funding}].{field}"),
        _ => "body".to_owned(),
    };
    ElectionError::invalid(kind, field, e.to_string())
}

/// The encrypted tally of spec/24 §24.3: Σ weight · ciphertext over the kept ballots,
/// summed per distinct weight and each partial sum scaled once. The decoding, the bulk
/// of the work, is split over the machine's cores; the sum does not depend on the split.
fn sum_ballots(
    election: &Election,
    kept: &[Latest],
    cast: u64,
) -> Result<SealedTally, ElectionError> {
    let threads = if kept.len() < 2048 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(8)
    };
    sum_ballots_split(election, kept, cast, threads)
}

fn sum_ballots_split(
    election: &Election,
    kept: &[Latest],
    cast: u64,
    threads: usize,
) -> Result<SealedTally, ElectionError> {
    let shape: Vec<usize> = election
        .manifest()
        .contests()
        .iter()
        .map(|c| c.options.len() + usize::from(c.blank))
        .collect();
    let total: usize = shape.iter().sum();
    let threads = threads.max(1);
    let chunk = kept.len().div_ceil(threads).max(1);
    let partial = |ballots: &[Latest]| -> Result<BTreeMap<u32, Vec<Ciphertext>>, ElectionError> {
        let mut by_weight: BTreeMap<u32, Vec<CiphertextSum>> = BTreeMap::new();
        for ballot in ballots {
            let sums = by_weight
                .entry(ballot.weight)
                .or_insert_with(|| vec![CiphertextSum::default(); total]);
            for (sum, bytes) in sums.iter_mut().zip(ballot.ciphertexts.iter()) {
                let ciphertext = Ciphertext::decode(bytes).map_err(|e| {
                    ElectionError::invalid(
                        "context.phase",
                        "body",
                        format!("a counted ciphertext does not decode: {e}"),
                    )
                })?;
                sum.add(&ciphertext);
            }
        }
        Ok(by_weight
            .into_iter()
            .map(|(w, sums)| (w, sums.iter().map(CiphertextSum::finish).collect()))
            .collect())
    };
    let parts: Vec<Result<BTreeMap<u32, Vec<Ciphertext>>, ElectionError>> = if threads == 1 {
        vec![partial(kept)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = kept
                .chunks(chunk)
                .map(|ballots| scope.spawn(move || partial(ballots)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(ElectionError::invalid(
                            "context.phase",
                            "body",
                            "summing the ballots failed",
                        ))
                    })
                })
                .collect()
        })
    };
    let mut by_weight: BTreeMap<u32, Vec<Ciphertext>> = BTreeMap::new();
    for part in parts {
        for (w, sums) in part? {
            match by_weight.get_mut(&w) {
                None => {
                    by_weight.insert(w, sums);
                }
                Some(acc) => {
                    for (a, s) in acc.iter_mut().zip(&sums) {
                        *a = &*a + s;
                    }
                }
            }
        }
    }
    let mut flat = vec![Ciphertext::zero(); total];
    for (w, sums) in by_weight {
        let scale = Scalar::from_u64(u64::from(w));
        for (acc, sum) in flat.iter_mut().zip(sums) {
            let scaled = if w == 1 { sum } else { sum.scale(&scale) };
            *acc = &*acc + &scaled;
        }
    }
    let mut contests = Vec::with_capacity(shape.len());
    let mut at = 0;
    for n in shape {
        contests.push(flat[at..at + n].to_vec());
        at += n;
    }
    let weight = kept.iter().map(|b| u64::from(b.weight)).sum();
    Ok(SealedTally {
        tally: EncryptedTally {
            context: *election.context(),
            ballots: kept.len() as u64,
            weight,
            contests,
        },
        superseded: cast - kept.len() as u64,
        ciphertexts: flat,
    })
}

/// The per-entry maximum of one ballot (spec/24 §24.2).
fn entry_maxima(manifest: &Manifest) -> Vec<Vec<u64>> {
    manifest
        .contests()
        .iter()
        .map(|c| {
            let mut m = vec![c.rules().per_option_max; c.options.len()];
            if c.blank {
                m.push(1);
            }
            m
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use urne_ballot::{Contest, ContestKind};
    use urne_crypto::PublicKey;

    #[test]
    fn the_tally_does_not_depend_on_how_the_ballots_are_split() {
        let manifest = Manifest::new(
            "T",
            vec![Contest {
                title: "Q".into(),
                kind: ContestKind::Approval { min: 0, max: 2 },
                blank: true,
                options: vec!["a".into(), "b".into()],
            }],
        )
        .unwrap();
        let key = PublicKey::from_point(urne_crypto::group::basepoint()).unwrap();
        let election = Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[7; 32],
            board_origin: "b",
            context_id: &[9; 32],
        })
        .unwrap();
        let g =
            Ciphertext::decode(&[urne_crypto::group::basepoint().to_bytes(); 2].concat()).unwrap();
        let kept: Vec<Latest> = (0..101u64)
            .map(|i| Latest {
                weight: 1 + (i % 3) as u32,
                ciphertexts: (0..3)
                    .map(|k| g.scale(&Scalar::from_u64(i * 7 + k)).to_bytes())
                    .collect(),
            })
            .collect();
        let one = sum_ballots_split(&election, &kept, 120, 1).unwrap();
        for threads in [2, 3, 8] {
            let split = sum_ballots_split(&election, &kept, 120, threads).unwrap();
            assert_eq!(split.tally, one.tally);
            assert_eq!(split.ciphertexts, one.ciphertexts);
        }
        assert_eq!(one.superseded, 19);
        assert_eq!(
            one.tally.weight,
            (0..101u64).map(|i| 1 + i % 3).sum::<u64>()
        );
        // Entry k sums weight·(7i + k)·(G, G).
        let expected: u64 = (0..101u64).map(|i| (1 + i % 3) * (7 * i + 2)).sum();
        assert_eq!(one.ciphertexts[2], g.scale(&Scalar::from_u64(expected)));
    }
}
