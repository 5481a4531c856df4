//! Registry snapshots of the anonymous mode (spec/31-registry.md): the registrar's
//! register (one key per person), versioned snapshots, each named by its snapshot id (a
//! hash of its header, which holds the entries' Merkle root) and cosigned by k of n registrars, per-district enrolment counts, and the split into fixed-size
//! buckets — the anonymity sets a petition signature hides in.
//!
//! Everything public here is a pure function of the published snapshot: anyone rebuilds
//! the buckets from the records and the snapshot id, so a registrar cannot place a key in
//! a bucket of its choosing without changing the id everyone signs and checks.

use std::collections::BTreeMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use urne_crypto::group::{generator_h, hash_to_group};
use urne_crypto::{Point, Scalar};
use urne_log::Hash;
use urne_log::hash::{leaf_hash, root_of};

use crate::labels::{
    BUCKET_ORDER, BUCKET_PADDING, BUCKET_PADDING_COMMITMENT, SNAPSHOT_ID, SNAPSHOT_SIGNATURE,
};
use crate::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, district_generator};

/// Bytes of one entry: K (32) ‖ C (32).
pub const ENTRY_BYTES: usize = 64;
/// Entries in each part but the last: a part with its header fits in one 64 KiB record.
pub const MAX_ENTRIES_PER_PART: usize = 1000;
/// The default bucket size, as a power of two: 2^12.
pub const DEFAULT_BUCKET_BITS: u8 = 12;
/// The largest bucket size, as a power of two: 2^16.
pub const MAX_BUCKET_BITS: u8 = 16;
/// The most registrars a registry has.
pub const MAX_REGISTRARS: usize = 255;
/// The most districts a snapshot counts (so its header fits in one record).
pub const MAX_DISTRICTS: usize = 4096;
/// The header version registrars write (spec/31 §31.4): the deal keyed by the registry id.
pub const SNAPSHOT_VERSION: u8 = 2;
/// The first published version, still read so that published petitions replay: the deal
/// keyed by the snapshot id, which the registrar can grind. Nothing new may rely on it.
pub const SNAPSHOT_VERSION_1: u8 = 1;
const PART_VERSION: u8 = 1;
const PART_HEADER: usize = 1 + 32 + 4 + 4 + 4;
const SNAPSHOT_FIXED: usize = 1 + 32 + 4 + 32 + 32 + 8 + 1 + 32 + 4;
const COSIGNATURE_BYTES: usize = 1 + 64;

/// Why a snapshot, a part, a cosignature or an enrolment was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Bytes that do not decode, with the field at fault.
    #[error("{field}: {reason}")]
    Decode {
        /// The field (`entries[12].key`, `districts[3].count`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Parts that do not fit the snapshot they claim.
    #[error("{0}")]
    Parts(String),
    /// Too few valid cosignatures, or one that does not verify.
    #[error("cosignatures: {0}")]
    Cosignatures(String),
    /// The registrar's register refuses an enrolment.
    #[error("enrolment: {0}")]
    Enrolment(String),
    /// The snapshot's counts or aggregate opening disagree with its entries.
    #[error("audit: {0}")]
    Audit(String),
    /// A snapshot a consumer's [`SnapshotPolicy`] refuses, naming the header field.
    #[error("{field}: {reason}")]
    Policy {
        /// The header field (`registry`, `cosignatures`, `version`, `bucket_bits`,
        /// `total`, `number`), as spec/31 §31.4 names it.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn decode_err(field: impl Into<String>, reason: impl Into<String>) -> RegistryError {
    RegistryError::Decode {
        field: field.into(),
        reason: reason.into(),
    }
}

/// One registered person: the wallet's key K and the commitment C to the district.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// K = r·G.
    pub key: Point,
    /// C = district·G + b·H.
    pub district: Point,
}

impl Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.key.as_bytes());
        out.extend_from_slice(self.district.as_bytes());
    }

    fn decode(bytes: &[u8], index: u64) -> Result<Self, RegistryError> {
        let key = Point::decode_non_identity(&bytes[..32])
            .map_err(|e| decode_err(format!("entries[{index}].key"), e.to_string()))?;
        let district = Point::decode_non_identity(&bytes[32..64])
            .map_err(|e| decode_err(format!("entries[{index}].district"), e.to_string()))?;
        Ok(Self { key, district })
    }

    fn leaf(&self) -> Hash {
        let mut bytes = Vec::with_capacity(ENTRY_BYTES);
        self.encode(&mut bytes);
        leaf_hash(&bytes)
    }
}

fn check_order(entries: &[Entry], offset: u64) -> Result<(), RegistryError> {
    for (i, pair) in entries.windows(2).enumerate() {
        if pair[0].key.as_bytes() >= pair[1].key.as_bytes() {
            return Err(decode_err(
                format!("entries[{}]", offset + i as u64 + 1),
                "entries must be sorted by key, each key at most once",
            ));
        }
    }
    Ok(())
}

/// The registrars of a registry: their Ed25519 keys and how many must cosign a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registrars {
    /// k: cosignatures needed.
    pub threshold: u8,
    /// The n keys; registrar i is the i-th (from 0).
    pub keys: Vec<VerifyingKey>,
}

impl Registrars {
    /// A set; refuses k = 0, k > n, n > 255, or a key twice.
    pub fn new(threshold: u8, keys: Vec<VerifyingKey>) -> Result<Self, RegistryError> {
        if keys.is_empty() || keys.len() > MAX_REGISTRARS {
            return Err(decode_err("registrars", "1 to 255 registrars"));
        }
        if threshold == 0 || usize::from(threshold) > keys.len() {
            return Err(decode_err(
                "threshold",
                format!("k = {threshold} is not in 1..={}", keys.len()),
            ));
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                return Err(decode_err(
                    format!("registrars[{i}]"),
                    "a registrar listed twice",
                ));
            }
        }
        Ok(Self { threshold, keys })
    }

    /// version (0x01) ‖ k (1) ‖ n (1) ‖ keys (32 × n).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1, self.threshold, self.keys.len() as u8];
        for k in &self.keys {
            out.extend_from_slice(k.as_bytes());
        }
        out
    }

    /// Decodes strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistryError> {
        if bytes.len() < 3 {
            return Err(decode_err("registrars", "shorter than its header"));
        }
        if bytes[0] != 1 {
            return Err(decode_err(
                "version",
                format!("version {} is not supported", bytes[0]),
            ));
        }
        let n = usize::from(bytes[2]);
        if bytes.len() != 3 + 32 * n {
            return Err(decode_err(
                "registrars",
                format!("{} bytes do not hold exactly {n} keys", bytes.len() - 3),
            ));
        }
        let keys = bytes[3..]
            .chunks_exact(32)
            .enumerate()
            .map(|(i, k)| {
                let mut a = [0u8; 32];
                a.copy_from_slice(k);
                VerifyingKey::from_bytes(&a)
                    .map_err(|_| decode_err(format!("registrars[{i}]"), "not an Ed25519 key"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(bytes[1], keys)
    }
}

/// A snapshot's header: everything the registrars sign (through its id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// 2 (what registrars write): buckets dealt by an order keyed by the registry id,
    /// fixed before anyone enrols; 1 (as first published): keyed by the snapshot id,
    /// which the registrar could re-roll by changing the entries (spec/31 §31.6).
    pub version: u8,
    /// The registry id, which its registrars chose at random (spec/31 §31.2).
    pub registry: [u8; 32],
    /// Its number: 1, 2, … in the order published.
    pub number: u32,
    /// The previous snapshot's id (zeros for number 1).
    pub previous: [u8; 32],
    /// The Merkle root of the entries.
    pub entries_root: Hash,
    /// Entries.
    pub total: u64,
    /// Bucket size 2^bits.
    pub bucket_bits: u8,
    /// The sum of all district blindings: the aggregate opening of Σ C.
    pub aggregate_blinding: Scalar,
    /// (district, enrolled), districts strictly increasing, counts ≥ 1, summing to total.
    pub districts: Vec<(u32, u64)>,
}

impl SnapshotHeader {
    /// Encodes (spec/31 §31.4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SNAPSHOT_FIXED + 12 * self.districts.len());
        out.push(self.version);
        out.extend_from_slice(&self.registry);
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.previous);
        out.extend_from_slice(&self.entries_root.0);
        out.extend_from_slice(&self.total.to_be_bytes());
        out.push(self.bucket_bits);
        out.extend_from_slice(&self.aggregate_blinding.to_bytes());
        out.extend_from_slice(&(self.districts.len() as u32).to_be_bytes());
        for (d, n) in &self.districts {
            out.extend_from_slice(&d.to_be_bytes());
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    }

    /// The snapshot id, SHA-256(SNAPSHOT_ID ‖ header): the id a petition binds, the
    /// registrars sign, and the buckets are drawn from.
    pub fn id(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(SNAPSHOT_ID)
            .chain_update(self.to_bytes())
            .finalize()
            .into()
    }

    /// What the bucket order is keyed by (spec/31 §31.6): the registry id (version 2),
    /// which is fixed before the first enrolment (every enrolment request is bound to it,
    /// spec/30 §30.4), so no choice the registrar makes when it builds a snapshot re-rolls
    /// the order; the snapshot id `id` for version 1.
    pub fn deal_key(&self, id: &[u8; 32]) -> [u8; 32] {
        if self.version == SNAPSHOT_VERSION_1 {
            *id
        } else {
            self.registry
        }
    }

    /// Whether the bucket order was fixed before anyone enrolled (version 2), so the
    /// registrar could not grind a chosen person into a small or chosen bucket
    /// (spec/31 §31.6). A version-1 snapshot is only for replaying what was published.
    pub fn deal_is_fixed(&self) -> bool {
        self.version != SNAPSHOT_VERSION_1
    }

    /// The number of buckets: ⌈total / 2^bits⌉, and 1 for an empty snapshot. It fits a
    /// u32: a decoded total is at most [`MAX_TOTAL`] and 2^bits at least 2 (a header
    /// built in memory with more saturates rather than wraps).
    pub fn bucket_count(&self) -> u32 {
        u32::try_from(self.total.div_ceil(1u64 << self.bucket_bits).max(1)).unwrap_or(u32::MAX)
    }

    /// The bucket size 2^bits.
    pub fn bucket_size(&self) -> usize {
        1usize << self.bucket_bits
    }

    fn decode_from(bytes: &[u8]) -> Result<(Self, usize), RegistryError> {
        if bytes.len() < SNAPSHOT_FIXED {
            return Err(decode_err(
                "snapshot",
                format!("{} bytes is shorter than a snapshot header", bytes.len()),
            ));
        }
        let version = bytes[0];
        if version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_1 {
            return Err(decode_err(
                "version",
                format!("snapshot version {} is not supported", bytes[0]),
            ));
        }
        let a32 = |at: usize| {
            let mut a = [0u8; 32];
            a.copy_from_slice(&bytes[at..at + 32]);
            a
        };
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let u64_at = |at: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(a)
        };
        let registry = a32(1);
        let number = u32_at(33);
        if number == 0 {
            return Err(decode_err("number", "snapshots are numbered from 1"));
        }
        let previous = a32(37);
        if (number == 1) != (previous == [0; 32]) {
            return Err(decode_err(
                "previous",
                "snapshot 1 has no previous (zeros), and every later one has one",
            ));
        }
        let entries_root = Hash(a32(69));
        let total = u64_at(101);
        // Buckets are numbered by a u32 (spec/31 §31.6): a larger total would make the
        // bucket count wrap, down to no bucket at all.
        if total > MAX_TOTAL {
            return Err(decode_err(
                "total",
                format!("{total} entries exceed the most a snapshot holds, 2^32"),
            ));
        }
        let bucket_bits = bytes[109];
        if bucket_bits == 0 || bucket_bits > MAX_BUCKET_BITS {
            return Err(decode_err(
                "bucket_bits",
                format!("bucket size 2^{bucket_bits} is not in 2^1..=2^{MAX_BUCKET_BITS}"),
            ));
        }
        let aggregate_blinding = Scalar::decode(&bytes[110..142])
            .map_err(|e| decode_err("aggregate_blinding", e.to_string()))?;
        let count = u32_at(142) as usize;
        if count > MAX_DISTRICTS {
            return Err(decode_err(
                "district_count",
                format!("{count} districts exceed {MAX_DISTRICTS}"),
            ));
        }
        let end = SNAPSHOT_FIXED + 12 * count;
        if bytes.len() < end {
            return Err(decode_err(
                "districts",
                format!(
                    "the header ends inside district {}",
                    (bytes.len() - SNAPSHOT_FIXED) / 12
                ),
            ));
        }
        let mut districts: Vec<(u32, u64)> = Vec::with_capacity(count);
        let mut sum: u64 = 0;
        for i in 0..count {
            let at = SNAPSHOT_FIXED + 12 * i;
            let (d, n) = (u32_at(at), u64_at(at + 4));
            if d == 0 || districts.last().is_some_and(|(prev, _)| *prev >= d) {
                return Err(decode_err(
                    format!("districts[{i}].district"),
                    "districts are 1 or more, strictly increasing",
                ));
            }
            if n == 0 {
                return Err(decode_err(
                    format!("districts[{i}].count"),
                    "a district listed has at least one person enrolled",
                ));
            }
            sum = sum.checked_add(n).ok_or_else(|| {
                decode_err(format!("districts[{i}].count"), "the counts overflow")
            })?;
            districts.push((d, n));
        }
        if sum != total {
            return Err(decode_err(
                "districts",
                format!("the district counts add up to {sum}, not the {total} entries"),
            ));
        }
        Ok((
            Self {
                version,
                registry,
                number,
                previous,
                entries_root,
                total,
                bucket_bits,
                aggregate_blinding,
                districts,
            },
            end,
        ))
    }
}

/// One registrar's signature of a snapshot id: Ed25519 (verify_strict) over
/// SNAPSHOT_SIGNATURE ‖ id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The registrar's index in the registry's set.
    pub registrar: u8,
    /// The signature.
    pub signature: Signature,
}

fn signed_message(id: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SNAPSHOT_SIGNATURE.len() + 32);
    m.extend_from_slice(SNAPSHOT_SIGNATURE);
    m.extend_from_slice(id);
    m
}

impl Cosignature {
    /// Registrar `index`'s signature of the snapshot `id`.
    pub fn sign(index: u8, key: &SigningKey, id: &[u8; 32]) -> Self {
        Self {
            registrar: index,
            signature: key.sign(&signed_message(id)),
        }
    }
}

/// The `registry.snapshot` body: the header and its cosignatures (spec/31 §31.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedSnapshot {
    /// The header.
    pub header: SnapshotHeader,
    /// At least k cosignatures, registrar indexes strictly increasing.
    pub cosignatures: Vec<Cosignature>,
}

impl SignedSnapshot {
    /// header ‖ cosignature count (1) ‖ (registrar index (1) ‖ signature (64))*.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header.to_bytes();
        out.push(self.cosignatures.len() as u8);
        for c in &self.cosignatures {
            out.push(c.registrar);
            out.extend_from_slice(&c.signature.to_bytes());
        }
        out
    }

    /// Decodes strictly (the cosignatures are checked by [`Self::verify`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistryError> {
        let (header, end) = SnapshotHeader::decode_from(bytes)?;
        let Some(&count) = bytes.get(end) else {
            return Err(decode_err("cosignature_count", "missing"));
        };
        let rest = &bytes[end + 1..];
        if rest.len() != usize::from(count) * COSIGNATURE_BYTES {
            return Err(decode_err(
                "cosignatures",
                format!(
                    "{} bytes do not hold exactly {count} cosignatures",
                    rest.len()
                ),
            ));
        }
        let mut cosignatures: Vec<Cosignature> = Vec::with_capacity(usize::from(count));
        for (i, c) in rest.chunks_exact(COSIGNATURE_BYTES).enumerate() {
            if cosignatures.last().is_some_and(|p| p.registrar >= c[0]) {
                return Err(decode_err(
                    format!("cosignatures[{i}].registrar"),
                    "registrar indexes strictly increasing",
                ));
            }
            let mut s = [0u8; 64];
            s.copy_from_slice(&c[1..]);
            cosignatures.push(Cosignature {
                registrar: c[0],
                signature: Signature::from_bytes(&s),
            });
        }
        Ok(Self {
            header,
            cosignatures,
        })
    }

    /// Checks the cosignatures: each by a registrar of the set, verify_strict over the
    /// id, and at least k of them.
    pub fn verify(&self, registrars: &Registrars) -> Result<(), RegistryError> {
        let message = signed_message(&self.header.id());
        for (i, c) in self.cosignatures.iter().enumerate() {
            let key = registrars
                .keys
                .get(usize::from(c.registrar))
                .ok_or_else(|| {
                    RegistryError::Cosignatures(format!(
                        "cosignatures[{i}]: there is no registrar {}",
                        c.registrar
                    ))
                })?;
            key.verify_strict(&message, &c.signature).map_err(|_| {
                RegistryError::Cosignatures(format!(
                    "cosignatures[{i}]: registrar {}'s signature does not verify",
                    c.registrar
                ))
            })?;
        }
        if self.cosignatures.len() < usize::from(registrars.threshold) {
            return Err(RegistryError::Cosignatures(format!(
                "{} of the {} registrar signatures needed",
                self.cosignatures.len(),
                registrars.threshold
            )));
        }
        Ok(())
    }
}

/// What a petition (spec/32 §32.6 step 2) or an anonymous election (spec/23 §23.12) demands
/// of the snapshot it takes: one check shared by both, so a consumer cannot promise a
/// floor the other enforces differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// The registry the snapshot must be of.
    pub registry: [u8; 32],
    /// Its registrars: k of them must cosign.
    pub registrars: Registrars,
    /// Every bucket holds 2^this keys or more.
    pub min_bucket_bits: u8,
    /// The smallest bucket holds at least this many registered (non-padding) keys.
    pub min_real_keys: u32,
    /// The snapshot's number is at least this: an older one may still hold keys since
    /// replaced as lost.
    pub min_snapshot: u32,
    /// Refuse a version-1 snapshot, whose bucket order the registrar can grind.
    pub fixed_deal_only: bool,
}

impl SnapshotPolicy {
    /// Checks a signed snapshot in the order spec/32 §32.6 gives: its registry, its
    /// cosignatures, then the floors of [`Self::check_floor`].
    pub fn check(&self, signed: &SignedSnapshot) -> Result<(), RegistryError> {
        if signed.header.registry != self.registry {
            return Err(RegistryError::Policy {
                field: "registry",
                reason: "the snapshot is of another registry".into(),
            });
        }
        signed
            .verify(&self.registrars)
            .map_err(|e| RegistryError::Policy {
                field: "cosignatures",
                reason: e.to_string(),
            })?;
        self.check_floor(&signed.header)
    }

    /// The floors against the header: its version when a fixed deal is required, its
    /// bucket size, the registered keys of its smallest bucket (buckets are dealt round
    /// robin, so the smallest holds ⌊T / buckets⌋), and its number.
    pub fn check_floor(&self, header: &SnapshotHeader) -> Result<(), RegistryError> {
        if self.fixed_deal_only && !header.deal_is_fixed() {
            return Err(RegistryError::Policy {
                field: "version",
                reason: format!(
                    "snapshot version {} deals its buckets by its own id, which the registrar can grind; only a version-2 snapshot is taken",
                    header.version
                ),
            });
        }
        let size = header.bucket_size();
        let floor = 1usize << self.min_bucket_bits.min(MAX_BUCKET_BITS);
        if size < floor {
            return Err(RegistryError::Policy {
                field: "bucket_bits",
                reason: format!("buckets of {size} keys, below the floor of {floor}"),
            });
        }
        let fewest = header.total / u64::from(header.bucket_count());
        if fewest < u64::from(self.min_real_keys) {
            return Err(RegistryError::Policy {
                field: "total",
                reason: format!(
                    "{} entries in {} buckets leave {fewest} registered keys in the smallest, below the floor of {}",
                    header.total,
                    header.bucket_count(),
                    self.min_real_keys
                ),
            });
        }
        if header.number < self.min_snapshot {
            return Err(RegistryError::Policy {
                field: "number",
                reason: format!(
                    "snapshot {} is older than the oldest taken, {}",
                    header.number, self.min_snapshot
                ),
            });
        }
        Ok(())
    }
}

/// One part of a snapshot's entries, as posted in a record:
///
/// ```text
/// version (0x01) ‖ snapshot id (32) ‖ part index (u32 BE) ‖ part count (u32 BE)
///   ‖ entries in this part (u32 BE) ‖ entries (64 bytes each)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotPart {
    /// The snapshot's id.
    pub snapshot: [u8; 32],
    /// This part's index, from 0.
    pub part: u32,
    /// How many parts.
    pub parts: u32,
    /// This part's entries.
    pub entries: Vec<Entry>,
}

/// The most entries a snapshot holds (spec/31 §31.4): 2^32, so its buckets, numbered by a
/// u32, never wrap.
pub const MAX_TOTAL: u64 = 1 << 32;

/// The number of parts of a snapshot of `total` entries: ⌈total / 1000⌉, and 1 for none.
pub fn parts_for(total: u64) -> u64 {
    total.div_ceil(MAX_ENTRIES_PER_PART as u64).max(1)
}

impl SnapshotPart {
    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PART_HEADER + ENTRY_BYTES * self.entries.len());
        out.push(PART_VERSION);
        out.extend_from_slice(&self.snapshot);
        out.extend_from_slice(&self.part.to_be_bytes());
        out.extend_from_slice(&self.parts.to_be_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        for e in &self.entries {
            e.encode(&mut out);
        }
        out
    }

    /// Decodes strictly: version, counts, exact length, canonical non-identity points,
    /// keys strictly increasing within the part.
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistryError> {
        if bytes.len() < PART_HEADER {
            return Err(decode_err("part", "shorter than a part header"));
        }
        if bytes[0] != PART_VERSION {
            return Err(decode_err(
                "version",
                format!("part version {} is not supported", bytes[0]),
            ));
        }
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut snapshot = [0u8; 32];
        snapshot.copy_from_slice(&bytes[1..33]);
        let (part, parts, count) = (u32_at(33), u32_at(37), u32_at(41) as usize);
        if parts == 0 || part >= parts {
            return Err(decode_err(
                "part",
                format!("part {part} of {parts} does not exist"),
            ));
        }
        if count > MAX_ENTRIES_PER_PART {
            return Err(decode_err(
                "count",
                format!("{count} entries exceed {MAX_ENTRIES_PER_PART} per part"),
            ));
        }
        if bytes.len() != PART_HEADER + count * ENTRY_BYTES {
            return Err(decode_err(
                "entries",
                format!(
                    "{} bytes do not hold exactly {count} entries",
                    bytes.len() - PART_HEADER
                ),
            ));
        }
        let offset = u64::from(part) * MAX_ENTRIES_PER_PART as u64;
        let entries = bytes[PART_HEADER..]
            .chunks_exact(ENTRY_BYTES)
            .enumerate()
            .map(|(i, e)| Entry::decode(e, offset + i as u64))
            .collect::<Result<Vec<_>, _>>()?;
        check_order(&entries, offset)?;
        Ok(Self {
            snapshot,
            part,
            parts,
            entries,
        })
    }
}

/// A complete snapshot: its signed header and all its entries, checked together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    signed: SignedSnapshot,
    entries: Vec<Entry>,
    id: [u8; 32],
    /// The real keys of each bucket, in ring order (computed once: a wallet asks for its
    /// position, a verifier for every ring).
    dealt: Vec<Vec<Point>>,
}

/// Takes a snapshot's parts in order, as the board receives them, against its header.
pub struct SnapshotAssembler {
    signed: SignedSnapshot,
    id: [u8; 32],
    entries: Vec<Entry>,
    next: u32,
}

impl SnapshotAssembler {
    /// Starts with the signed header (whose cosignatures the caller has verified).
    pub fn new(signed: SignedSnapshot) -> Self {
        let id = signed.header.id();
        Self {
            signed,
            id,
            entries: Vec::new(),
            next: 0,
        }
    }

    /// Whether `part` would be accepted next, without taking it.
    pub fn check(&self, part: &SnapshotPart) -> Result<(), RegistryError> {
        let header = &self.signed.header;
        let parts = parts_for(header.total);
        if part.snapshot != self.id {
            return Err(RegistryError::Parts(format!(
                "part {} belongs to another snapshot",
                part.part
            )));
        }
        if u64::from(part.parts) != parts {
            return Err(RegistryError::Parts(format!(
                "a snapshot of {} entries has {parts} parts, not {}",
                header.total, part.parts
            )));
        }
        if part.part != self.next {
            return Err(RegistryError::Parts(format!(
                "part {} arrived where part {} was expected",
                part.part, self.next
            )));
        }
        let last = u64::from(part.part) + 1 == parts;
        let expected = if last {
            header.total - u64::from(part.part) * MAX_ENTRIES_PER_PART as u64
        } else {
            MAX_ENTRIES_PER_PART as u64
        };
        if part.entries.len() as u64 != expected {
            return Err(RegistryError::Parts(format!(
                "part {} has {} entries where the total says {expected}",
                part.part,
                part.entries.len()
            )));
        }
        if let (Some(prev), Some(first)) = (self.entries.last(), part.entries.first())
            && prev.key.as_bytes() >= first.key.as_bytes()
        {
            return Err(decode_err(
                format!("entries[{}]", self.entries.len()),
                "entries must be sorted by key, each key at most once",
            ));
        }
        if last {
            let all: Vec<Entry> = self
                .entries
                .iter()
                .chain(part.entries.iter())
                .copied()
                .collect();
            check_entries(header, &all)?;
        }
        Ok(())
    }

    /// Takes the next part.
    pub fn push(&mut self, part: &SnapshotPart) -> Result<(), RegistryError> {
        self.check(part)?;
        self.entries.extend_from_slice(&part.entries);
        self.next += 1;
        Ok(())
    }

    /// Whether every part has arrived.
    pub fn is_complete(&self) -> bool {
        u64::from(self.next) == parts_for(self.signed.header.total)
    }

    /// The snapshot, once complete.
    pub fn finish(self) -> Result<Snapshot, RegistryError> {
        if !self.is_complete() {
            return Err(RegistryError::Parts(format!(
                "only {} parts of the snapshot arrived",
                self.next
            )));
        }
        let dealt = deal(
            &self.signed.header.deal_key(&self.id),
            self.signed.header.bucket_count(),
            &self.entries,
        );
        Ok(Snapshot {
            signed: self.signed,
            entries: self.entries,
            id: self.id,
            dealt,
        })
    }
}

/// The checks over all entries (spec/31 §31.5): they hash to the root, and the district
/// commitments add up to what the counts and the aggregate opening say.
fn check_entries(header: &SnapshotHeader, entries: &[Entry]) -> Result<(), RegistryError> {
    let leaves: Vec<Hash> = entries.iter().map(Entry::leaf).collect();
    if root_of(&leaves) != header.entries_root {
        return Err(RegistryError::Parts(
            "the entries do not hash to the snapshot's entries root".into(),
        ));
    }
    let sum: RistrettoPoint = entries.iter().map(|e| *e.district.as_ristretto()).sum();
    let counted: RistrettoPoint = header
        .districts
        .iter()
        .map(|(d, n)| district_generator(*d).as_ristretto() * DalekScalar::from(*n))
        .sum();
    let expected = counted + generator_h().as_ristretto() * header.aggregate_blinding.as_dalek();
    if sum != expected {
        return Err(RegistryError::Audit(
            "the district commitments do not open to the published district counts".into(),
        ));
    }
    Ok(())
}

/// Where a key sits in a snapshot's buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The bucket, from 0.
    pub bucket: u32,
    /// The key's index in the bucket's ring.
    pub index: usize,
}

impl Snapshot {
    /// Builds and checks a snapshot from its signed header and all its entries.
    pub fn new(signed: SignedSnapshot, entries: Vec<Entry>) -> Result<Self, RegistryError> {
        let mut assembler = SnapshotAssembler::new(signed);
        for part in parts_of(&assembler.id, &entries) {
            assembler.push(&part)?;
        }
        assembler.finish()
    }

    /// Its snapshot id (what a petition binds).
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// Its signed header.
    pub fn signed(&self) -> &SignedSnapshot {
        &self.signed
    }

    /// Its header.
    pub fn header(&self) -> &SnapshotHeader {
        &self.signed.header
    }

    /// The entries, sorted by key.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The parts to post after the `registry.snapshot` record, in order.
    pub fn parts(&self) -> Vec<SnapshotPart> {
        parts_of(&self.id, &self.entries)
    }

    /// Bucket `bucket`'s ring: its real keys then padding to 2^bits, or None if there is
    /// no such bucket.
    pub fn bucket(&self, bucket: u32) -> Option<Vec<Point>> {
        if bucket >= self.header().bucket_count() {
            return None;
        }
        let mut ring = self.dealt.get(bucket as usize)?.clone();
        let size = self.header().bucket_size();
        for i in ring.len()..size {
            ring.push(padding_point(&self.id, bucket, i as u32));
        }
        Some(ring)
    }

    /// Bucket `bucket`'s attribute ring (spec/31 §31.6): the district commitment of each
    /// real key, in the ring's order, then padding commitments to 2^bits; None if there is
    /// no such bucket. A signature that discloses a district proves it over this ring at
    /// the index of its key (spec/08 §8.12).
    pub fn bucket_commitments(&self, bucket: u32) -> Option<Vec<Point>> {
        if bucket >= self.header().bucket_count() {
            return None;
        }
        let keys = self.dealt.get(bucket as usize)?;
        let mut ring = Vec::with_capacity(self.header().bucket_size());
        for key in keys {
            // Entries are sorted by key (spec/31 §31.5), and every dealt key is one.
            let at = self
                .entries
                .binary_search_by(|e| e.key.as_bytes().cmp(key.as_bytes()))
                .ok()?;
            ring.push(self.entries[at].district);
        }
        for i in ring.len()..self.header().bucket_size() {
            ring.push(padding_commitment(&self.id, bucket, i as u32));
        }
        Some(ring)
    }

    /// How many registered (non-padding) keys bucket `bucket` holds, or None if there is
    /// no such bucket: a ring is only as anonymous as its real keys.
    pub fn real_keys(&self, bucket: u32) -> Option<usize> {
        self.dealt.get(bucket as usize).map(Vec::len)
    }

    /// Every bucket's ring.
    pub fn buckets(&self) -> Vec<Vec<Point>> {
        let size = self.header().bucket_size();
        self.dealt
            .iter()
            .enumerate()
            .map(|(b, real)| {
                let mut ring = real.clone();
                for i in ring.len()..size {
                    ring.push(padding_point(&self.id, b as u32, i as u32));
                }
                ring
            })
            .collect()
    }

    /// Where `key` sits, or None if it is not in this snapshot (the wallet's question
    /// before signing).
    pub fn position(&self, key: &Point) -> Option<Position> {
        self.dealt.iter().enumerate().find_map(|(b, ring)| {
            ring.iter().position(|k| k == key).map(|index| Position {
                bucket: b as u32,
                index,
            })
        })
    }
}

/// The real keys in bucket order (spec/31 §31.6): sorted by SHA-256(BUCKET_ORDER ‖ id ‖ K),
/// then dealt round-robin to the buckets, so bucket sizes differ by at most one.
fn deal(id: &[u8; 32], buckets: u32, entries: &[Entry]) -> Vec<Vec<Point>> {
    let mut keyed: Vec<([u8; 32], Point)> = entries
        .iter()
        .map(|e| (order_key(id, &e.key), e.key))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.as_bytes().cmp(b.1.as_bytes())));
    let mut dealt = vec![Vec::new(); buckets as usize];
    for (i, (_, key)) in keyed.into_iter().enumerate() {
        dealt[i % buckets as usize].push(key);
    }
    dealt
}

fn parts_of(id: &[u8; 32], entries: &[Entry]) -> Vec<SnapshotPart> {
    let chunks: Vec<&[Entry]> = if entries.is_empty() {
        vec![&[]]
    } else {
        entries.chunks(MAX_ENTRIES_PER_PART).collect()
    };
    let parts = chunks.len() as u32;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| SnapshotPart {
            snapshot: *id,
            part: i as u32,
            parts,
            entries: c.to_vec(),
        })
        .collect()
}

fn order_key(id: &[u8; 32], key: &Point) -> [u8; 32] {
    Sha256::new()
        .chain_update(BUCKET_ORDER)
        .chain_update(id)
        .chain_update(key.as_bytes())
        .finalize()
        .into()
}

/// The padding point at `index` of bucket `bucket`: hash-to-group(BUCKET_PADDING ‖ id ‖
/// bucket ‖ index), whose discrete log nobody knows, so nobody can sign with it.
pub fn padding_point(id: &[u8; 32], bucket: u32, index: u32) -> Point {
    let mut input = Vec::with_capacity(BUCKET_PADDING.len() + 40);
    input.extend_from_slice(BUCKET_PADDING);
    input.extend_from_slice(id);
    input.extend_from_slice(&bucket.to_be_bytes());
    input.extend_from_slice(&index.to_be_bytes());
    hash_to_group(&input)
}

/// The padding commitment at `index` of bucket `bucket`'s attribute ring:
/// hash-to-group(BUCKET_PADDING_COMMITMENT ‖ id ‖ bucket ‖ index), whose opening nobody
/// knows, beside the padding key nobody can sign with.
pub fn padding_commitment(id: &[u8; 32], bucket: u32, index: u32) -> Point {
    let mut input = Vec::with_capacity(BUCKET_PADDING_COMMITMENT.len() + 40);
    input.extend_from_slice(BUCKET_PADDING_COMMITMENT);
    input.extend_from_slice(id);
    input.extend_from_slice(&bucket.to_be_bytes());
    input.extend_from_slice(&index.to_be_bytes());
    hash_to_group(&input)
}

/// The registrar's register: one key per person, kept by the registrar and never
/// published (the person ids are its own). Snapshots are made from it.
#[derive(Default)]
pub struct Register {
    people: BTreeMap<[u8; 32], Enrolled>,
}

struct Enrolled {
    entry: Entry,
    district: u32,
    blinding: DalekScalar,
}

impl Register {
    /// An empty register.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enrols person `person` (the registrar's own identifier, after checking identity)
    /// with a verified request; `replacing` allows replacing the key of someone already
    /// enrolled (a lost wallet): the new key appears only in later snapshots.
    pub fn enrol(
        &mut self,
        person: [u8; 32],
        request: &EnrolmentRequest,
        replacing: bool,
    ) -> Result<(), RegistryError> {
        let attribute = request
            .attributes()
            .iter()
            .find(|a| a.code == ATTRIBUTE_DISTRICT)
            .ok_or_else(|| {
                RegistryError::Enrolment("the request has no district attribute".into())
            })?;
        if attribute.value == 0 {
            return Err(RegistryError::Enrolment("district 0 does not exist".into()));
        }
        if self
            .people
            .iter()
            .any(|(p, e)| *p != person && e.entry.key == request.key)
        {
            return Err(RegistryError::Enrolment(
                "this key is already enrolled for someone else".into(),
            ));
        }
        if self.people.contains_key(&person) && !replacing {
            return Err(RegistryError::Enrolment(
                "this person is already enrolled: one key per person (replace a lost key explicitly)"
                    .into(),
            ));
        }
        self.people.insert(
            person,
            Enrolled {
                entry: Entry {
                    key: request.key,
                    district: attribute.commitment(),
                },
                district: attribute.value,
                blinding: *attribute.blinding_scalar(),
            },
        );
        Ok(())
    }

    /// How many people are enrolled.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// Whether nobody is enrolled.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The next snapshot's header and entries, to be cosigned.
    pub fn snapshot_header(
        &self,
        registry: [u8; 32],
        number: u32,
        previous: [u8; 32],
        bucket_bits: u8,
    ) -> (SnapshotHeader, Vec<Entry>) {
        let mut entries: Vec<Entry> = self.people.values().map(|e| e.entry).collect();
        entries.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        let mut districts: BTreeMap<u32, u64> = BTreeMap::new();
        for e in self.people.values() {
            *districts.entry(e.district).or_default() += 1;
        }
        let aggregate: DalekScalar = self.people.values().map(|e| e.blinding).sum();
        let leaves: Vec<Hash> = entries.iter().map(Entry::leaf).collect();
        (
            SnapshotHeader {
                version: SNAPSHOT_VERSION,
                registry,
                number,
                previous,
                entries_root: root_of(&leaves),
                total: entries.len() as u64,
                bucket_bits,
                aggregate_blinding: Scalar::from_dalek(aggregate),
                districts: districts.into_iter().collect(),
            },
            entries,
        )
    }
}

#[cfg(test)]
mod tests;
