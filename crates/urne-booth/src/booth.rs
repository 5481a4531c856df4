//! The booth's operations (spec/60 §60.3), in the order a voter meets them: load the
//! election, make a ballot (encrypt, prove, sign), then cast it or audit it.

use chacha20::ChaCha20Rng;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use urne_ballot::{
    Ballot, BallotSecrets, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest, TrackingCode, check_audit,
};
use urne_credential::registry::{
    Position, Registrars, SignedSnapshot, Snapshot, SnapshotAssembler, SnapshotPart, SnapshotPolicy,
};
use urne_credential::wallet::{Wallet, WalletError};
use urne_credential::{BallotSignature, Credential, Decision};
use urne_crypto::PublicKey;
use urne_crypto::curve25519_dalek::ristretto::RistrettoPoint;
use urne_crypto::triptych::{self, Ring};
use urne_log::strict_hex;
use urne_record::{ContextId, Record, leaf_hash};
use zeroize::{Zeroize as _, Zeroizing};

use crate::receipt::{BALLOT_AUDIT, BALLOT_CAST};
use crate::records::{
    ANONYMOUS_AUDIT, ANONYMOUS_BALLOT, anonymous_audit_body, anonymous_cast_body, audit_body,
    cast_body,
};

/// What went wrong, and in which input field (the page shows both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BoothError {
    /// The input at fault (`credential`, `selections[1]`, `receipt.inclusion`).
    pub field: String,
    /// What was wrong, for people (English).
    pub message: String,
    /// For the mistakes a voter makes and can mend, a stable code the page words in
    /// the voter's language (spec/60 §60.2): `credential-length`, `credential-character`,
    /// `credential-checksum`, `selection`, `receipt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The values the code's wording needs (a position, a count), in its order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl BoothError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code: None,
            args: Vec::new(),
        }
    }

    /// The same error, with the code the page translates.
    pub(crate) fn coded(mut self, code: &'static str, args: Vec<String>) -> Self {
        self.code = Some(code);
        self.args = args;
        self
    }

    /// The error with `code` unless it has one already.
    pub(crate) fn or_code(self, code: &'static str) -> Self {
        if self.code.is_some() {
            self
        } else {
            self.coded(code, Vec::new())
        }
    }

    /// A credential the voter typed that does not parse: which mistake, coded.
    fn credential(e: &urne_credential::CredentialError) -> Self {
        use urne_credential::CredentialError as E;
        let plain = Self::new("credential", e.to_string());
        match e {
            E::Length { expected, found } => plain.coded(
                "credential-length",
                vec![expected.to_string(), found.to_string()],
            ),
            E::Character { position, found } => plain.coded(
                "credential-character",
                vec![position.to_string(), found.to_string()],
            ),
            E::Checksum => plain.coded("credential-checksum", Vec::new()),
            _ => plain,
        }
    }
}

/// The election's sealed parameters as the board serves them (spec/61 §61.2): the
/// booth recomputes the context hash from them rather than trusting one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionParams {
    /// The election's context id, 64 hex digits.
    pub election: String,
    /// The board's origin (first line of its checkpoints).
    pub origin: String,
    /// The manifest's canonical bytes (spec/21 §21.1), hex.
    pub manifest: String,
    /// The trustees' joint key K, 64 hex digits.
    pub joint_key: String,
    /// The Merkle root of the credential list, 64 hex digits; in an anonymous election,
    /// the snapshot's id (spec/21 §21.3), which the booth recomputes from the snapshot.
    pub credential_root: String,
    /// An anonymous election's eligibility (spec/23 §23.2: the version-2 manifest
    /// record's prefix), hex; absent for a pseudonymous one.
    #[serde(default)]
    pub eligibility: Option<String>,
    /// An anonymous election's registry snapshot, as posted in it (spec/23 §23.12).
    #[serde(default)]
    pub snapshot: Option<SnapshotParams>,
}

/// A registry snapshot as the board serves it: its signed header (spec/31 §31.4) and
/// every part (spec/31 §31.5), hex, in order.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotParams {
    /// The `election.snapshot` body.
    pub header: String,
    /// The `election.snapshot-part` bodies.
    pub parts: Vec<String>,
}

/// One contest as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContestView {
    /// The question.
    pub title: String,
    /// `single`, `approval` or `cumulative`.
    pub kind: &'static str,
    /// The options' labels.
    pub options: Vec<String>,
    /// Whether the contest offers the blank vote.
    pub blank: bool,
    /// Fewest options (approval) or points (cumulative) of a non-blank vote.
    pub min: u64,
    /// Most options or points.
    pub max: u64,
    /// Most points on one option (1 unless cumulative).
    pub per_option_max: u64,
    /// A budget contest's project costs, in option order (empty otherwise).
    pub costs: Vec<u64>,
    /// Least a non-blank budget ballot spends (0 otherwise).
    pub min_spend: u64,
    /// The budget (0 unless a budget contest).
    pub budget: u64,
}

/// The election loaded: what the page shows before the voter chooses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElectionView {
    /// The context id.
    pub election: String,
    /// The election context hash (spec/21 §21.3), computed here, 64 hex digits.
    pub context_hash: String,
    /// The manifest's title.
    pub title: String,
    /// Its contests.
    pub contests: Vec<ContestView>,
    /// For an anonymous election, the snapshot its voters are in (null otherwise).
    pub anonymous: Option<AnonymityView>,
}

/// The anonymity an anonymous election offers, as its snapshot deals it (spec/31 §31.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnonymityView {
    /// The registry, 64 hex digits.
    pub registry: String,
    /// Its registrars' Ed25519 keys, hex, as the eligibility names them.
    pub registrars: Vec<String>,
    /// How many of them cosign a snapshot.
    pub threshold: u8,
    /// The snapshot's number.
    pub snapshot: u32,
    /// People enrolled in it.
    pub people: u64,
    /// How many buckets it deals them into.
    pub buckets: u32,
    /// Keys per bucket (padding included): the ring a ballot is signed over.
    pub bucket_size: usize,
}

/// The voter's wallet, opened: where its key sits in the snapshot and its tag here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalletView {
    /// The wallet's key K, 64 hex digits (public: the registrar recorded it).
    pub key: String,
    /// The bucket whose ring the ballot is signed over.
    pub bucket: u32,
    /// Keys in that ring.
    pub ring_size: usize,
    /// Registered keys among them (the rest is padding nobody can sign for).
    pub registered: usize,
    /// The tag J = r⁻¹·U: the ballot's credential in this election, 64 hex digits.
    pub tag: String,
}

/// The voter's choice in one contest, from the page. Not `Clone`, and its `Debug` shows
/// nothing: the choice is as secret as the credential.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The blank vote (then every value is 0).
    #[serde(default)]
    pub blank: bool,
    /// A value per option, in manifest order (0/1, or points).
    pub values: Vec<u64>,
}

impl core::fmt::Debug for Selection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Selection(<redacted>)")
    }
}

// A selection is how the voter votes: wiped from the module's memory when dropped, as the
// credential and the nonces are (spec/60 §60.1).
impl Drop for Selection {
    fn drop(&mut self) {
        self.values.zeroize();
        self.blank.zeroize();
    }
}

/// A ballot made and waiting for the voter's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MadeBallot {
    /// The tracking code, 64 hex digits.
    pub tracking_code: String,
    /// Its short form (spec/21 §21.7), what the voter compares.
    pub short: String,
    /// The credential's public key, 64 hex digits.
    pub credential: String,
}

/// A cast ballot's record, to post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CastOutcome {
    /// The `ballot.cast` record, hex.
    pub record: String,
    /// Its leaf hash (how the board names it), hex.
    pub hash: String,
    /// The tracking code, hex.
    pub tracking_code: String,
    /// Its short form.
    pub short: String,
}

/// One option of an audited ballot: what the device encrypted, and the nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenedValue {
    /// The option's label (`(blank vote)` for the blank vote).
    pub label: String,
    /// The value encrypted.
    pub value: u64,
    /// The ElGamal nonce, hex.
    pub nonce: String,
}

/// One contest of an audited ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenedContest {
    /// The question.
    pub title: String,
    /// Each option's value and nonce, then the blank vote's, if any.
    pub values: Vec<OpenedValue>,
}

/// An audited (spoiled) ballot: its record to post, and what it opens to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditOutcome {
    /// The `ballot.audit` record, hex.
    pub record: String,
    /// Its leaf hash, hex.
    pub hash: String,
    /// The tracking code, hex.
    pub tracking_code: String,
    /// Its short form.
    pub short: String,
    /// What the ballot encrypts, per contest.
    pub contests: Vec<OpenedContest>,
}

struct Loaded {
    id: ContextId,
    election: Election,
    /// An anonymous election's snapshot, assembled and checked here.
    snapshot: Option<Snapshot>,
    /// Its registrars, as the eligibility names them.
    registrars: Option<Registrars>,
}

/// The wallet opened for the loaded election: its secret, where its key sits, its tag.
struct OpenedWallet {
    wallet: Wallet,
    position: Position,
    tag: RistrettoPoint,
}

/// Who makes a ballot.
enum Voter<'a> {
    Credential(Credential),
    Wallet(&'a Snapshot, &'a OpenedWallet),
}

/// What authorises a ballot, for each decision: a credential's signatures (spec/22
/// §22.4), or ring signatures over a bucket of the snapshot (spec/23 §23.13), each kept as
/// its encoding. Both are made before the voter decides; only the one decided leaves the
/// module, so whoever relays an audit cannot post its ballot as a cast. The other is
/// wiped the moment one is released ([`Self::release`]), and both are wiped when dropped
/// unreleased (a new ballot, another election): an unreleased signature is the other
/// decision's authority, and nothing of it may stay in the module's memory, which the
/// page can read (spec/60 §60.1).
struct Authorisation {
    /// `None`: the credential's signatures; `Some(bucket)`: ring signatures over it.
    ring: Option<u32>,
    cast: Zeroizing<Vec<u8>>,
    audit: Zeroizing<Vec<u8>>,
}

impl Authorisation {
    /// The signature of `decision`, released; the other decision's is overwritten with
    /// zeros in place now, before any record is made of the released one.
    fn release(&mut self, decision: Decision) -> Zeroizing<Vec<u8>> {
        let (released, other) = match decision {
            Decision::Cast => (&mut self.cast, &mut self.audit),
            Decision::Audit => (&mut self.audit, &mut self.cast),
        };
        // In place, its length kept: the bytes are zeros wherever they were.
        other.as_mut_slice().zeroize();
        Zeroizing::new(core::mem::take(&mut **released))
    }
}

/// A ballot between encryption and the voter's decision. Its secrets are wiped when it
/// is cast (dropped) and revealed only when it is audited.
struct Pending {
    ballot: Ballot,
    authorisation: Authorisation,
    secrets: BallotSecrets,
}

/// The booth's state: the election loaded, the wallet opened for it (anonymous
/// elections) and the ballot pending, if any.
#[derive(Default)]
pub struct Booth {
    loaded: Option<Loaded>,
    wallet: Option<OpenedWallet>,
    pending: Option<Pending>,
    /// The operation the trap drill armed (spec/60 §60.2): its next call traps.
    trap_drill: Option<u32>,
}

/// Decodes an anonymous election's eligibility (spec/23 §23.2) into what it demands of
/// its snapshot: the check it shares with the board (urne-credential's SnapshotPolicy).
/// urne-election owns this encoding; a test holds the two decoders equal.
pub fn eligibility_policy(bytes: &[u8]) -> Result<SnapshotPolicy, BoothError> {
    let wrong = |field: &str, why: &str| BoothError::new(format!("eligibility.{field}"), why);
    let fixed = 1 + 1 + 4 + 4 + 32 + 2;
    if bytes.len() < fixed {
        return Err(wrong("mode", "shorter than its fixed fields"));
    }
    if bytes[0] != 1 {
        return Err(wrong("mode", "not 1 (anonymous)"));
    }
    let min_bucket_bits = bytes[1];
    if !(1..=16).contains(&min_bucket_bits) {
        return Err(wrong("min_bucket_bits", "not in 1..=16"));
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let min_real_keys = word(2);
    if !(2..=1u32 << min_bucket_bits).contains(&min_real_keys) {
        return Err(wrong("min_real_keys", "not in 2..=2^min_bucket_bits"));
    }
    let min_snapshot = word(6);
    if min_snapshot == 0 {
        return Err(wrong("min_snapshot", "snapshots are numbered from 1"));
    }
    let mut registry = [0u8; 32];
    registry.copy_from_slice(&bytes[10..42]);
    let len = usize::from(u16::from_be_bytes([bytes[42], bytes[43]]));
    if bytes.len() != fixed + len {
        return Err(wrong("registrars", "not the declared length"));
    }
    let registrars = Registrars::decode(&bytes[fixed..])
        .map_err(|e| BoothError::new("eligibility.registrars", e.to_string()))?;
    Ok(SnapshotPolicy {
        registry,
        registrars,
        min_bucket_bits,
        min_real_keys,
        min_snapshot,
        fixed_deal_only: true,
    })
}

/// Assembles the snapshot the board serves and checks it against the eligibility the
/// manifest record committed to: registry, cosignatures, floors, parts, entries root and
/// district audit — what the board checked before it accepted them.
fn checked_snapshot(
    eligibility: &str,
    served: &SnapshotParams,
) -> Result<(Snapshot, Registrars), BoothError> {
    let policy = eligibility_policy(
        &strict_hex::decode(eligibility)
            .ok_or_else(|| BoothError::new("eligibility", "not lowercase hex"))?,
    )?;
    let header = strict_hex::decode(&served.header)
        .ok_or_else(|| BoothError::new("snapshot.header", "not lowercase hex"))?;
    let signed = SignedSnapshot::decode(&header)
        .map_err(|e| BoothError::new("snapshot.header", e.to_string()))?;
    policy
        .check(&signed)
        .map_err(|e| BoothError::new("snapshot.header", e.to_string()))?;
    let mut assembler = SnapshotAssembler::new(signed);
    for (i, part) in served.parts.iter().enumerate() {
        let field = format!("snapshot.parts[{i}]");
        let bytes = strict_hex::decode(part)
            .ok_or_else(|| BoothError::new(field.clone(), "not lowercase hex"))?;
        let part = SnapshotPart::decode(&bytes)
            .map_err(|e| BoothError::new(field.clone(), e.to_string()))?;
        assembler
            .push(&part)
            .map_err(|e| BoothError::new(field, e.to_string()))?;
    }
    let snapshot = assembler
        .finish()
        .map_err(|e| BoothError::new("snapshot.parts", e.to_string()))?;
    Ok((snapshot, policy.registrars))
}

/// The context bytes of an anonymous ballot's signature (spec/23 §23.13): the decision's
/// label (ANONYMOUS_BALLOT for a cast, ANONYMOUS_AUDIT for an audit) ‖ context id ‖
/// snapshot id ‖ bucket ‖ tracking code. A test holds them equal to urne-election's.
fn ring_signature_context(
    label: &[u8],
    election: &ContextId,
    snapshot_id: &[u8; 32],
    bucket: u32,
    code: &TrackingCode,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() + 100);
    out.extend_from_slice(label);
    out.extend_from_slice(&election.0);
    out.extend_from_slice(snapshot_id);
    out.extend_from_slice(&bucket.to_be_bytes());
    out.extend_from_slice(&code.0);
    out
}

/// A credential's released signature, decoded from the encoding the booth kept.
fn credential_signature(bytes: &[u8]) -> Result<BallotSignature, BoothError> {
    BallotSignature::decode(bytes).map_err(|e| BoothError::new("signature", e.to_string()))
}

fn hex32(field: &str, text: &str) -> Result<[u8; 32], BoothError> {
    strict_hex::decode_array::<32>(text)
        .ok_or_else(|| BoothError::new(field, "not 64 lowercase hex digits"))
}

fn kind_name(kind: &ContestKind) -> &'static str {
    match kind {
        ContestKind::SingleChoice => "single",
        ContestKind::Approval { .. } => "approval",
        ContestKind::Budget { .. } => "budget",
        _ => "cumulative",
    }
}

impl Booth {
    /// Loads the election from the board's parameters and computes its context hash
    /// (spec/21 §21.3). A pending ballot of another election is dropped.
    pub fn load(&mut self, params: &ElectionParams) -> Result<ElectionView, BoothError> {
        let id = ContextId(hex32("election", &params.election)?);
        let manifest_bytes = strict_hex::decode(&params.manifest)
            .ok_or_else(|| BoothError::new("manifest", "not lowercase hex"))?;
        let manifest = Manifest::decode(&manifest_bytes)
            .map_err(|e| BoothError::new(format!("manifest.{}", e.field()), e.to_string()))?;
        let joint_key = PublicKey::decode(&hex32("joint_key", &params.joint_key)?)
            .map_err(|e| BoothError::new("joint_key", e.to_string()))?;
        let root = hex32("credential_root", &params.credential_root)?;
        let snapshot = match (&params.eligibility, &params.snapshot) {
            (None, None) => None,
            (Some(eligibility), Some(served)) => {
                let (snapshot, registrars) = checked_snapshot(eligibility, served)?;
                // The context hash binds the snapshot's id in the list root's place
                // (spec/21 §21.3): the one served must be the one assembled here.
                if snapshot.id() != root {
                    return Err(BoothError::new(
                        "credential_root",
                        "not the id of the snapshot the board serves",
                    ));
                }
                Some((snapshot, registrars))
            }
            (Some(_), None) => {
                return Err(BoothError::new(
                    "snapshot",
                    "an anonymous election without its snapshot",
                ));
            }
            (None, Some(_)) => {
                return Err(BoothError::new(
                    "eligibility",
                    "a snapshot without the eligibility it must meet",
                ));
            }
        };
        let election = Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &joint_key,
            credential_root: &root,
            board_origin: &params.origin,
            context_id: &id.0,
        })
        .map_err(|e| BoothError::new("origin", e.to_string()))?;
        let view = ElectionView {
            election: id.to_hex(),
            context_hash: hex::encode(election.context().0),
            title: manifest.title().to_owned(),
            contests: manifest
                .contests()
                .iter()
                .map(|c| {
                    let rules = c.rules();
                    let spending = c.spending();
                    ContestView {
                        title: c.title.clone(),
                        kind: kind_name(&c.kind),
                        options: c.options.clone(),
                        blank: c.blank,
                        min: rules.min,
                        max: rules.max,
                        per_option_max: rules.per_option_max,
                        costs: spending.map(|s| s.costs.to_vec()).unwrap_or_default(),
                        min_spend: spending.map_or(0, |s| s.min),
                        budget: spending.map_or(0, |s| s.max),
                    }
                })
                .collect(),
            anonymous: snapshot.as_ref().map(|(snapshot, registrars)| {
                let header = snapshot.header();
                AnonymityView {
                    registry: hex::encode(header.registry),
                    registrars: registrars
                        .keys
                        .iter()
                        .map(|k| hex::encode(k.as_bytes()))
                        .collect(),
                    threshold: registrars.threshold,
                    snapshot: header.number,
                    people: header.total,
                    buckets: header.bucket_count(),
                    bucket_size: header.bucket_size(),
                }
            }),
        };
        self.pending = None;
        self.wallet = None;
        let (snapshot, registrars) = snapshot.unzip();
        self.loaded = Some(Loaded {
            id,
            election,
            snapshot,
            registrars,
        });
        Ok(view)
    }

    /// Opens the voter's wallet file for the loaded anonymous election (spec/30 §30.3):
    /// it must be enrolled in the election's registry, and its key must be in the
    /// snapshot; the tag J = r⁻¹·U is computed here, since the ballot's proofs bind it.
    pub fn open_wallet(&mut self, file: &[u8], passphrase: &str) -> Result<WalletView, BoothError> {
        self.pending = None;
        self.wallet = None;
        let loaded = self.loaded()?;
        let snapshot = loaded.snapshot.as_ref().ok_or_else(|| {
            BoothError::new("wallet", "this election takes credentials, not a wallet")
        })?;
        let mut wallet = Wallet::open(file, passphrase.as_bytes()).map_err(|e| {
            let plain = BoothError::new("wallet", e.to_string());
            match e {
                WalletError::WrongPassphrase => plain.coded("wallet-passphrase", Vec::new()),
                WalletError::NotAWallet { .. } => plain.coded("wallet-file", Vec::new()),
                _ => plain,
            }
        })?;
        let registry = snapshot.header().registry;
        // The registry and the registrars the holder was given in person (spec/30 §30.5)
        // must be the election's, as the CLI checks: a board cannot swap either.
        let enrolled = wallet.enrolment().is_some_and(|e| {
            e.registry == registry && Some(&e.registrars) == loaded.registrars.as_ref()
        });
        if !enrolled {
            return Err(BoothError::new(
                "wallet",
                "this wallet is not enrolled in the election's registry under its registrars",
            )
            .coded("wallet-registry", Vec::new()));
        }
        let key = wallet.public_key();
        let position = snapshot.position(&key).ok_or_else(|| {
            BoothError::new(
                "wallet",
                "this wallet's key is not in the election's snapshot of the registry",
            )
            .coded("wallet-not-listed", Vec::new())
        })?;
        // The context hash binds this snapshot, but a board could have opened the election
        // on an older snapshot of the registry than one this wallet has signed from, where
        // a key its owner has since replaced may still stand (spec/32 §32.9): refused, as
        // the CLI refuses it.
        let number = snapshot.header().number;
        let newest = wallet.newest_snapshot();
        wallet.see_snapshot(number).map_err(|e| {
            BoothError::new("snapshot", e.to_string()).coded(
                "wallet-snapshot-old",
                vec![number.to_string(), newest.to_string()],
            )
        })?;
        let snapshot_id = snapshot.id();
        let inverse = Zeroizing::new(wallet.secret().expose_secret().invert());
        let tag = triptych::linking_base(&snapshot_id, &loaded.id.0) * *inverse;
        let view = WalletView {
            key: key.to_hex(),
            bucket: position.bucket,
            ring_size: snapshot.header().bucket_size(),
            registered: snapshot.real_keys(position.bucket).unwrap_or(0),
            tag: hex::encode(tag.compress().to_bytes()),
        };
        self.wallet = Some(OpenedWallet {
            wallet,
            position,
            tag,
        });
        Ok(view)
    }

    /// Arms the trap drill (spec/60 §60.2): the next call of operation `op` on this
    /// instance traps before it runs, with whatever secrets the instance holds still in its
    /// memory, so that the page's recovery (wipe the memory, drop the instance, load a
    /// fresh one) is tested on the very bundle voters run, at the step chosen.
    pub fn arm_trap_drill(&mut self, op: u32) {
        self.trap_drill = Some(op);
    }

    /// Whether a call of `op` must trap now (the drill armed it); the drill fires once.
    pub fn trap_drill_due(&mut self, op: u32) -> bool {
        let due = self.trap_drill == Some(op);
        if due {
            self.trap_drill = None;
        }
        due
    }

    fn loaded(&self) -> Result<&Loaded, BoothError> {
        self.loaded
            .as_ref()
            .ok_or_else(|| BoothError::new("election", "no election is loaded"))
    }

    /// The public key of a credential (spec/22 §22.1), or what is wrong with its text.
    pub fn credential_key(text: &str) -> Result<String, BoothError> {
        let credential = Credential::parse(text.trim()).map_err(|e| BoothError::credential(&e))?;
        Ok(hex::encode(credential.public().to_bytes()))
    }

    /// Encrypts and proves the voter's selections, and signs the tracking code with the
    /// credential, exactly as `urne vote` does; `seed` is 32 fresh bytes of the
    /// browser's CSPRNG. The ballot then waits for [`Self::cast`] or [`Self::audit`].
    pub fn make_ballot(
        &mut self,
        credential: Option<&str>,
        selections: &[Selection],
        seed: Seed,
    ) -> Result<MadeBallot, BoothError> {
        self.pending = None;
        let loaded = self.loaded()?;
        // Who the ballot is from: a credential (pseudonymous), or the opened wallet's tag.
        let voter = match (&loaded.snapshot, credential) {
            (None, Some(text)) => Voter::Credential(
                Credential::parse(text.trim()).map_err(|e| BoothError::credential(&e))?,
            ),
            (None, None) => {
                return Err(BoothError::new("credential", "no credential was given"));
            }
            (Some(_), Some(_)) => {
                return Err(BoothError::new(
                    "credential",
                    "an anonymous election takes the wallet, not a credential",
                ));
            }
            (Some(snapshot), None) => {
                let opened = self.wallet.as_ref().ok_or_else(|| {
                    BoothError::new("wallet", "open the wallet before making the ballot")
                })?;
                Voter::Wallet(snapshot, opened)
            }
        };
        let contests = loaded.election.manifest().contests();
        if selections.len() != contests.len() {
            return Err(BoothError::new(
                "selections",
                format!(
                    "the election has {} contests, the page sent {} choices",
                    contests.len(),
                    selections.len()
                ),
            ));
        }
        let selections: Vec<ContestSelection> = selections
            .iter()
            .zip(contests)
            .map(|(s, c)| {
                if s.blank {
                    ContestSelection::blank(c.options.len())
                } else {
                    ContestSelection::values(s.values.clone())
                }
            })
            .collect();
        let mut rng = generator(&seed);
        let key = match &voter {
            Voter::Credential(credential) => CredentialKey(credential.public().to_bytes()),
            Voter::Wallet(_, opened) => CredentialKey(opened.tag.compress().to_bytes()),
        };
        let (ballot, secrets) = Ballot::encrypt(&loaded.election, &key, &selections, &mut rng)
            .map_err(|e| match e {
                urne_ballot::BallotError::InvalidSelection { contest, detail } => {
                    BoothError::new(format!("selections[{contest}]"), detail)
                        .coded("selection", vec![(contest + 1).to_string()])
                }
                other => BoothError::new("ballot", other.to_string()),
            })?;
        let code = TrackingCode::of(&ballot);
        // As the CLI: both signatures, the cast's and the audit's, are made now, after
        // the tracking code commits the ballot and before the voter decides, so making
        // them tells the device nothing (spec/23 §23.7).
        let authorisation = match &voter {
            Voter::Credential(credential) => {
                // Kept as their encodings, in buffers wiped when released or dropped.
                let mut sign = |decision| {
                    BallotSignature::sign(
                        credential,
                        loaded.election.context(),
                        decision,
                        &code.0,
                        &mut rng,
                    )
                    .map(|mut s| {
                        let bytes = Zeroizing::new(s.to_bytes());
                        // The value goes too, not only its encoding (spec/60 §60.1).
                        s.zeroize();
                        bytes
                    })
                    .map_err(|e| BoothError::new("credential", e.to_string()))
                };
                let cast = sign(Decision::Cast)?;
                Authorisation {
                    ring: None,
                    cast,
                    audit: sign(Decision::Audit)?,
                }
            }
            Voter::Wallet(snapshot, opened) => {
                let bucket = opened.position.bucket;
                let ring = snapshot
                    .bucket(bucket)
                    .ok_or_else(|| BoothError::new("wallet", "the wallet's bucket is gone"))
                    .and_then(|keys| {
                        Ring::new(keys.iter().map(|k| *k.as_ristretto()).collect())
                            .map_err(|e| BoothError::new("snapshot", e.to_string()))
                    })?;
                let snapshot_id = snapshot.id();
                let secret = Zeroizing::new(*opened.wallet.secret().expose_secret());
                let linking_base = triptych::linking_base(&snapshot_id, &loaded.id.0);
                let mut sign = |label| {
                    let context =
                        ring_signature_context(label, &loaded.id, &snapshot_id, bucket, &code);
                    triptych::sign(
                        &ring,
                        opened.position.index,
                        &secret,
                        &linking_base,
                        &context,
                        &mut rng,
                    )
                    .map(|mut s| {
                        let bytes = Zeroizing::new(s.to_bytes());
                        // X, Y and f are on the heap: wiped before they are freed, the
                        // unreleased signature's with the released one's (spec/60 §60.1).
                        s.zeroize();
                        bytes
                    })
                    .map_err(|e| BoothError::new("wallet", e.to_string()))
                };
                let cast = sign(ANONYMOUS_BALLOT)?;
                Authorisation {
                    ring: Some(bucket),
                    cast,
                    audit: sign(ANONYMOUS_AUDIT)?,
                }
            }
        };
        self.pending = Some(Pending {
            ballot,
            authorisation,
            secrets,
        });
        Ok(MadeBallot {
            tracking_code: code.to_hex(),
            short: code.short(),
            credential: hex::encode(key.0),
        })
    }

    fn take_pending(&mut self) -> Result<(&Loaded, Pending), BoothError> {
        let pending = self.pending.take().ok_or_else(|| {
            BoothError::new("ballot", "no ballot is waiting to be cast or audited")
        })?;
        Ok((self.loaded()?, pending))
    }

    /// The `ballot.cast` record of the pending ballot, signed by a one-time device key
    /// from `seed` (the envelope names no voter). The ballot's nonces are wiped.
    pub fn cast(&mut self, seed: Seed) -> Result<CastOutcome, BoothError> {
        // The wallet's secret goes with the cast: a revote opens the wallet again.
        self.wallet = None;
        let (loaded, mut pending) = self.take_pending()?;
        let code = TrackingCode::of(&pending.ballot);
        let signature = pending.authorisation.release(Decision::Cast);
        let body = match pending.authorisation.ring {
            None => cast_body(&pending.ballot, &credential_signature(&signature)?),
            Some(bucket) => anonymous_cast_body(&pending.ballot, bucket, &signature),
        };
        let record = sign(loaded.id, BALLOT_CAST, &body, seed)?;
        Ok(CastOutcome {
            hash: hex::encode(leaf_hash(record.bytes())),
            record: hex::encode(record.bytes()),
            tracking_code: code.to_hex(),
            short: code.short(),
        })
    }

    /// The `ballot.audit` record of the pending ballot: the ballot, its signature and
    /// its opening (every value and nonce), checked here first as the CLI does. The
    /// ballot is spoiled: it can never be cast.
    pub fn audit(&mut self, seed: Seed) -> Result<AuditOutcome, BoothError> {
        let (loaded, mut pending) = self.take_pending()?;
        let code = TrackingCode::of(&pending.ballot);
        // The cast's signature is wiped before the opening is made: whatever happens next
        // (a failed check, a trap), no authority to count this ballot is left.
        let signature = pending.authorisation.release(Decision::Audit);
        let opening = pending.secrets.audit(&pending.ballot);
        check_audit(&loaded.election, &pending.ballot, &opening).map_err(|e| {
            BoothError::new(
                "ballot",
                format!("this device's own ballot fails its audit: {e}"),
            )
        })?;
        let body = match pending.authorisation.ring {
            None => audit_body(
                &pending.ballot,
                &credential_signature(&signature)?,
                &opening,
            ),
            Some(bucket) => anonymous_audit_body(&pending.ballot, bucket, &signature, &opening),
        };
        let record = sign(loaded.id, BALLOT_AUDIT, &body, seed)?;
        let contests = loaded
            .election
            .manifest()
            .contests()
            .iter()
            .zip(&opening.contests)
            .map(|(contest, opened)| OpenedContest {
                title: contest.title.clone(),
                values: contest
                    .options
                    .iter()
                    .zip(&opened.options)
                    .map(|(label, (value, nonce))| OpenedValue {
                        label: label.clone(),
                        value: *value,
                        nonce: hex::encode(nonce.to_bytes()),
                    })
                    .chain(opened.blank.iter().map(|(value, nonce)| OpenedValue {
                        label: "(blank vote)".into(),
                        value: *value,
                        nonce: hex::encode(nonce.to_bytes()),
                    }))
                    .collect(),
            })
            .collect();
        Ok(AuditOutcome {
            hash: hex::encode(leaf_hash(record.bytes())),
            record: hex::encode(record.bytes()),
            tracking_code: code.to_hex(),
            short: code.short(),
            contests,
        })
    }
}

/// 32 fresh bytes of the page's `crypto.getRandomValues` for one operation, on the heap
/// and wiped when dropped: moving it between functions moves a pointer, where moving a
/// `[u8; 32]` leaves copies on the stack (in WebAssembly, the linear memory) that
/// nothing wipes. Not `Clone` (each seed serves one operation), and its `Debug` prints no
/// byte of it.
///
/// ```compile_fail
/// let seed = urne_booth::Seed::take(&mut [7u8; 32]);
/// let again = seed.clone(); // a seed is used once: there is no copy to make
/// ```
pub struct Seed(Box<Zeroizing<[u8; 32]>>);

impl Seed {
    /// The seed the page wrote into `buffer`, moved out of it: copied straight to the heap
    /// (no `[u8; 32]` value is made), and `buffer` left zeroed.
    pub fn take(buffer: &mut [u8; 32]) -> Self {
        let mut seed = Box::new(Zeroizing::new([0u8; 32]));
        seed.copy_from_slice(&buffer[..]);
        buffer.zeroize();
        Self(seed)
    }

    /// Whether every byte is zero (the page wrote none).
    pub fn is_all_zeros(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

/// The operation's generator: ChaCha20 keyed by the seed, through chacha20's public
/// `SeedableRng::from_seed`. It takes the key by value: that copy is a temporary of this
/// frame, and the generator's own state is wiped when it is dropped (chacha20's
/// `zeroize` feature).
fn generator(seed: &Seed) -> ChaCha20Rng {
    use rand_core::SeedableRng as _;
    ChaCha20Rng::from_seed(*seed.bytes())
}

fn sign(
    context: ContextId,
    kind: urne_record::Kind,
    body: &[u8],
    seed: Seed,
) -> Result<Record, BoothError> {
    // A device key per ballot: the envelope says nothing of the voter (spec/23 §23.6).
    let device = SigningKey::from_bytes(seed.bytes());
    Record::sign(context, kind, body, &device).map_err(|e| BoothError::new("record", e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand_core::{Rng as _, SeedableRng as _};

    use super::*;

    /// The generator is ChaCha20 keyed by the seed from its start: the ballots a seed
    /// makes did not change with the newtype.
    #[test]
    fn the_generator_is_chacha20_from_the_seed() {
        for byte in [0u8, 1, 0xa5, 0xff] {
            let mut bytes = [byte; 32];
            bytes[7] ^= 0x3c;
            let mut theirs = ChaCha20Rng::from_seed(bytes);
            let seed = Seed::take(&mut bytes);
            assert_eq!(bytes, [0; 32], "the buffer is left zeroed");
            let mut ours = generator(&seed);
            let (mut a, mut b) = ([0u8; 300], [0u8; 300]);
            ours.fill_bytes(&mut a);
            theirs.fill_bytes(&mut b);
            assert_eq!(a, b, "seed byte {byte}");
        }
    }

    /// A seed's `Debug` shows none of its bytes.
    #[test]
    fn a_seeds_debug_prints_no_byte() {
        let seed = Seed::take(&mut [0xab; 32]);
        let shown = format!("{seed:?} {seed:#?}");
        assert_eq!(shown, "Seed(<redacted>) Seed(<redacted>)");
        assert!(!shown.contains("171") && !shown.contains("ab"), "{shown}");
    }

    /// Releasing one decision's signature overwrites the other's bytes with zeros where
    /// they are (spec/60 §60.1); the released one comes out whole.
    #[test]
    fn releasing_one_signature_wipes_the_others_bytes() {
        for (decision, ring) in [(Decision::Cast, None), (Decision::Audit, Some(3))] {
            let mut authorisation = Authorisation {
                ring,
                cast: Zeroizing::new(vec![0xca; 65]),
                audit: Zeroizing::new(vec![0xa0; 70]),
            };
            let released = authorisation.release(decision);
            let (expected, other, other_len) = match decision {
                Decision::Cast => (vec![0xca; 65], &authorisation.audit, 70),
                Decision::Audit => (vec![0xa0; 70], &authorisation.cast, 65),
            };
            assert_eq!(*released, expected, "{decision:?}");
            assert_eq!(other.len(), other_len, "wiped in place, not just let go");
            assert!(other.iter().all(|&b| b == 0), "{decision:?}: {other:?}");
        }
    }
}
