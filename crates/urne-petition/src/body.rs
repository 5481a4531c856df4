//! Petition record bodies (spec/32 §32.4), decoded strictly, naming the field at fault.

use urne_credential::registry::{Registrars, SnapshotHeader, SnapshotPolicy};

use crate::error::PetitionError;

/// The longest scope, in bytes of UTF-8.
pub const MAX_SCOPE: usize = 200;
const VERSION: u8 = 1;

fn version(bytes: &[u8]) -> Result<(), PetitionError> {
    match bytes.first() {
        None => Err(PetitionError::invalid("body", "empty")),
        Some(&VERSION) => Ok(()),
        Some(v) => Err(PetitionError::invalid(
            "body.version",
            format!("version {v} is not supported"),
        )),
    }
}

fn short(bytes: &[u8], need: usize, field: &str) -> Result<(), PetitionError> {
    if bytes.len() < need {
        return Err(PetitionError::invalid(
            field,
            format!("the body ends inside it ({} bytes)", bytes.len()),
        ));
    }
    Ok(())
}

fn a32(bytes: &[u8]) -> [u8; 32] {
    let mut a = [0u8; 32];
    a.copy_from_slice(&bytes[..32]);
    a
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(a)
}

/// `petition.define` (spec/32 §32.4). Version 2 (what the tools write):
///
/// ```text
/// version (0x02) ‖ text hash (32) ‖ threshold (u64 BE, ≥ 1) ‖ deadline (u64 BE, Unix seconds)
///   ‖ scope length (u16 BE, 1–200) ‖ scope (UTF-8) ‖ policy (14) ‖ registry id (32)
///   ‖ registrars (spec/31 §31.2)
/// policy = min bucket bits (1) ‖ min registered keys (u32 BE) ‖ min snapshot (u32 BE)
///   ‖ disclosure (1: 0x00 none, 0x01 district) ‖ min bin (u32 BE)
/// ```
///
/// Version 1 has no policy; it stays valid so that petitions already posted replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    /// SHA-256 of the petition's exact text.
    pub text_hash: [u8; 32],
    /// Signatures needed.
    pub threshold: u64,
    /// When the authority closes it (Unix seconds).
    pub deadline: u64,
    /// Who it is addressed to, in words (`City council of Urneville`).
    pub scope: String,
    /// The floors and disclosure it promises (version 2), or None (version 1: only the
    /// protocol floor, [`PROTOCOL_MIN_REAL_KEYS`], and no disclosure).
    pub policy: Option<Policy>,
    /// The registry whose snapshot it uses.
    pub registry: [u8; 32],
    /// That registry's registrars, who cosign the snapshot.
    pub registrars: Registrars,
}

/// Fewer registered keys than this in a bucket and a signature over it names a person
/// outright: no definition may promise less (spec/32 §32.4), version 1 included.
pub const PROTOCOL_MIN_REAL_KEYS: u32 = 2;

/// What a version-2 definition binds beyond version 1 (spec/32 §32.4): the anonymity
/// floor the board enforces on the snapshot, the oldest snapshot it takes, and whether
/// signers may disclose their district.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Every bucket has at least 2^this keys (1–16).
    pub min_bucket_bits: u8,
    /// Every bucket holds at least this many registered keys
    /// ([`PROTOCOL_MIN_REAL_KEYS`] … 2^min_bucket_bits).
    pub min_real_keys: u32,
    /// The snapshot's number is at least this (≥ 1): a snapshot older than the one that
    /// dropped a replaced key is refused.
    pub min_snapshot: u32,
    /// Some(minimum bin) if a signer may disclose its district: per-district counts are
    /// shown only for districts with at least that many signatures, and a district with
    /// fewer enrolled people than that may not be disclosed. None: no disclosure.
    pub disclosure: Option<u32>,
}

const POLICY_BYTES: usize = 14;
const VERSION_2: u8 = 2;

impl Policy {
    fn to_bytes(self) -> [u8; POLICY_BYTES] {
        let mut out = [0u8; POLICY_BYTES];
        out[0] = self.min_bucket_bits;
        out[1..5].copy_from_slice(&self.min_real_keys.to_be_bytes());
        out[5..9].copy_from_slice(&self.min_snapshot.to_be_bytes());
        out[9] = u8::from(self.disclosure.is_some());
        out[10..14].copy_from_slice(&self.disclosure.unwrap_or(0).to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let min_bucket_bits = bytes[0];
        if !(1..=16).contains(&min_bucket_bits) {
            return Err(PetitionError::invalid(
                "body.min_bucket_bits",
                format!("{min_bucket_bits} is not in 1..=16"),
            ));
        }
        let min_real_keys = u32_at(1);
        if min_real_keys < PROTOCOL_MIN_REAL_KEYS || min_real_keys > 1 << min_bucket_bits {
            return Err(PetitionError::invalid(
                "body.min_real_keys",
                format!(
                    "{min_real_keys} is not in {PROTOCOL_MIN_REAL_KEYS}..={} (a bucket of 2^{min_bucket_bits})",
                    1u32 << min_bucket_bits
                ),
            ));
        }
        let min_snapshot = u32_at(5);
        if min_snapshot == 0 {
            return Err(PetitionError::invalid("body.min_snapshot", "at least 1"));
        }
        let min_bin = u32_at(10);
        let disclosure = match (bytes[9], min_bin) {
            (0, 0) => None,
            (0, _) => {
                return Err(PetitionError::invalid(
                    "body.min_bin",
                    "0 when no attribute may be disclosed",
                ));
            }
            (1, 0) => return Err(PetitionError::invalid("body.min_bin", "at least 1")),
            (1, bin) => Some(bin),
            (v, _) => {
                return Err(PetitionError::invalid(
                    "body.disclosure",
                    format!("{v} is neither 0 (none) nor 1 (district)"),
                ));
            }
        };
        Ok(Self {
            min_bucket_bits,
            min_real_keys,
            min_snapshot,
            disclosure,
        })
    }
}

impl Definition {
    /// Encodes (version 2 with a policy, version 1 without).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![if self.policy.is_some() {
            VERSION_2
        } else {
            VERSION
        }];
        out.extend_from_slice(&self.text_hash);
        out.extend_from_slice(&self.threshold.to_be_bytes());
        out.extend_from_slice(&self.deadline.to_be_bytes());
        out.extend_from_slice(&(self.scope.len() as u16).to_be_bytes());
        out.extend_from_slice(self.scope.as_bytes());
        if let Some(policy) = self.policy {
            out.extend_from_slice(&policy.to_bytes());
        }
        out.extend_from_slice(&self.registry);
        out.extend_from_slice(&self.registrars.to_bytes());
        out
    }

    /// Decodes strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        let versioned = match bytes.first() {
            Some(&VERSION_2) => true,
            _ => {
                version(bytes)?;
                false
            }
        };
        short(bytes, 51, "body")?;
        let text_hash = a32(&bytes[1..]);
        let threshold = u64_at(bytes, 33);
        if threshold == 0 {
            return Err(PetitionError::invalid("body.threshold", "at least 1"));
        }
        let deadline = u64_at(bytes, 41);
        let scope_len = usize::from(u16::from_be_bytes([bytes[49], bytes[50]]));
        if scope_len == 0 || scope_len > MAX_SCOPE {
            return Err(PetitionError::invalid(
                "body.scope_length",
                format!("{scope_len} bytes is not in 1..={MAX_SCOPE}"),
            ));
        }
        let policy_len = if versioned { POLICY_BYTES } else { 0 };
        short(bytes, 51 + scope_len + policy_len + 32, "body.registry")?;
        let scope = std::str::from_utf8(&bytes[51..51 + scope_len])
            .map_err(|_| PetitionError::invalid("body.scope", "not UTF-8"))?;
        if scope.chars().any(char::is_control) || scope.trim().is_empty() {
            return Err(PetitionError::invalid(
                "body.scope",
                "control characters, or only white space",
            ));
        }
        let mut at = 51 + scope_len;
        let policy = if versioned {
            let policy = Policy::decode(&bytes[at..at + POLICY_BYTES])?;
            at += POLICY_BYTES;
            Some(policy)
        } else {
            None
        };
        let registry = a32(&bytes[at..]);
        let registrars = Registrars::decode(&bytes[at + 32..])
            .map_err(|e| PetitionError::invalid("body.registrars", e.to_string()))?;
        Ok(Self {
            text_hash,
            threshold,
            deadline,
            scope: scope.to_owned(),
            policy,
            registry,
            registrars,
        })
    }

    /// What the petition demands of its snapshot (spec/32 §32.6 step 2), as the check
    /// shared with anonymous elections states it.
    pub fn snapshot_policy(&self) -> SnapshotPolicy {
        SnapshotPolicy {
            registry: self.registry,
            registrars: self.registrars.clone(),
            min_bucket_bits: self.policy.map_or(1, |p| p.min_bucket_bits),
            min_real_keys: self.min_real_keys(),
            min_snapshot: self.min_snapshot(),
            fixed_deal_only: self.policy.is_some(),
        }
    }

    /// The fewest keys a bucket may have: 2^min_bucket_bits (2 for version 1).
    pub fn min_bucket_size(&self) -> usize {
        1 << self.policy.map_or(1, |p| p.min_bucket_bits)
    }

    /// The fewest registered keys a bucket may hold.
    pub fn min_real_keys(&self) -> u32 {
        self.policy
            .map_or(PROTOCOL_MIN_REAL_KEYS, |p| p.min_real_keys)
    }

    /// The oldest snapshot number the petition takes (1 for version 1).
    pub fn min_snapshot(&self) -> u32 {
        self.policy.map_or(1, |p| p.min_snapshot)
    }

    /// Refuses a version-1 snapshot under a version-2 definition (spec/32 §32.6 step 2):
    /// its bucket order is keyed by the snapshot id, which the registrar can re-roll until
    /// a chosen person lands in a bucket of its choosing, undoing the floors this
    /// definition promises. A version-1 definition keeps taking one, so published
    /// petitions replay.
    pub fn check_snapshot_version(&self, header: &SnapshotHeader) -> Result<(), PetitionError> {
        if self.policy.is_some() && !header.deal_is_fixed() {
            return Err(PetitionError::invalid(
                "body.version",
                format!(
                    "snapshot version {} deals its buckets by its own id, which the registrar can grind; a version-2 petition takes only a version-2 snapshot",
                    header.version
                ),
            ));
        }
        Ok(())
    }

    /// The minimum bin of district disclosure, or None if no attribute may be disclosed.
    pub fn disclosure(&self) -> Option<u32> {
        self.policy.and_then(|p| p.disclosure)
    }
}

/// `petition.sign` and `petition.withdraw`:
///
/// ```text
/// version (0x01) ‖ bucket (u32 BE) ‖ disclosure (0x00, or 0x01 ‖ district (u32 BE))
///   ‖ ring signature (spec/08 §8.6, or §8.12 when a district is disclosed)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureBody {
    /// The bucket whose ring the signature is over.
    pub bucket: u32,
    /// The district the signer discloses (spec/32 §32.11), if any.
    pub disclosed: Option<u32>,
    /// The ring signature's bytes (decoded against the bucket's ring size).
    pub signature: Vec<u8>,
}

impl SignatureBody {
    /// The tag J as the signature encodes it (spec/08 §8.6: the version byte, then J),
    /// neither decoded nor verified: enough for a wallet to find its own earlier signature
    /// on a log the board already checked.
    pub fn encoded_tag(&self) -> Option<[u8; 32]> {
        self.signature.get(1..33).map(a32)
    }

    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.signature.len());
        out.push(VERSION);
        out.extend_from_slice(&self.bucket.to_be_bytes());
        match self.disclosed {
            None => out.push(0),
            Some(district) => {
                out.push(1);
                out.extend_from_slice(&district.to_be_bytes());
            }
        }
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes the frame; the signature is decoded against its ring later.
    pub fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        version(bytes)?;
        short(bytes, 6, "body")?;
        let bucket = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        let (disclosed, at) = match bytes[5] {
            0 => (None, 6),
            1 => {
                short(bytes, 10, "body.disclosure")?;
                let district = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]);
                if district == 0 {
                    return Err(PetitionError::invalid(
                        "body.disclosure",
                        "district 0 is reserved",
                    ));
                }
                (Some(district), 10)
            }
            v => {
                return Err(PetitionError::invalid(
                    "body.disclosure",
                    format!("{v} is neither 0 (nothing disclosed) nor 1 (a district)"),
                ));
            }
        };
        Ok(Self {
            bucket,
            disclosed,
            signature: bytes[at..].to_vec(),
        })
    }
}

/// `petition.duplicate` (spec/32 §32.4): a `petition.sign` the board refused because its
/// tag was taken, as its poster made it.
///
/// ```text
/// version (0x01) ‖ the refused record's envelope signer (32) ‖ the refused record's body
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The one-time envelope key of the refused record, which its ring signature binds.
    pub signer: [u8; 32],
    /// The refused `petition.sign` body.
    pub body: SignatureBody,
}

impl Duplicate {
    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.signer);
        out.extend_from_slice(&self.body.to_bytes());
        out
    }

    /// Decodes strictly (the embedded body as `petition.sign`'s, its fields under
    /// `body.signed`).
    pub fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        version(bytes)?;
        short(bytes, 33, "body.signer")?;
        let body = SignatureBody::decode(&bytes[33..]).map_err(|e| match e {
            PetitionError::Invalid { field, reason } => {
                PetitionError::invalid(field.replacen("body", "body.signed", 1), reason)
            }
            other => other,
        })?;
        Ok(Self {
            signer: a32(&bytes[1..]),
            body,
        })
    }
}

/// `petition.result`:
///
/// ```text
/// version (0x01) ‖ counted (u64 BE) ‖ withdrawn (u64 BE) ‖ reached (1: 0x00 or 0x01)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PetitionResult {
    /// Distinct tags signed and not withdrawn.
    pub counted: u64,
    /// Tags withdrawn.
    pub withdrawn: u64,
    /// counted ≥ threshold.
    pub reached: bool,
}

impl PetitionResult {
    /// Bytes of the body.
    pub const LEN: usize = 18;

    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.counted.to_be_bytes());
        out.extend_from_slice(&self.withdrawn.to_be_bytes());
        out.push(u8::from(self.reached));
        out
    }

    /// Decodes strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        version(bytes)?;
        if bytes.len() != Self::LEN {
            return Err(PetitionError::invalid(
                "body",
                format!("{} bytes, not {}", bytes.len(), Self::LEN),
            ));
        }
        let reached = match bytes[17] {
            0 => false,
            1 => true,
            v => {
                return Err(PetitionError::invalid(
                    "body.reached",
                    format!("{v} is neither 0 nor 1"),
                ));
            }
        };
        Ok(Self {
            counted: u64_at(bytes, 1),
            withdrawn: u64_at(bytes, 9),
            reached,
        })
    }
}
