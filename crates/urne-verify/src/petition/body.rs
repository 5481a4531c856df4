//! The petition's kinds, phases and bodies (spec/32 §32.2–§32.4), decoded strictly by the
//! verifier itself, each refusal naming the field at fault. The registry's snapshot and
//! its parts are spec/31's format, decoded by urne-credential's registry.

use urne_credential::registry::Registrars;
use urne_record::Kind;

/// The petition's record kinds (spec/32 §32.2).
pub mod kinds {
    use urne_record::Kind;

    /// `registry.snapshot`.
    pub const REGISTRY_SNAPSHOT: Kind = Kind(0x0201);
    /// `registry.snapshot-part`.
    pub const REGISTRY_SNAPSHOT_PART: Kind = Kind(0x0202);
    /// `petition.define`.
    pub const PETITION_DEFINE: Kind = Kind(0x0210);
    /// `petition.sign`.
    pub const PETITION_SIGN: Kind = Kind(0x0211);
    /// `petition.withdraw`.
    pub const PETITION_WITHDRAW: Kind = Kind(0x0212);
    /// `petition.result`.
    pub const PETITION_RESULT: Kind = Kind(0x0213);
    /// `petition.duplicate`.
    pub const PETITION_DUPLICATE: Kind = Kind(0x0214);
}

/// The label of a signature's context bytes (spec/32 §32.1).
pub(crate) const SIGNATURE_LABEL: &[u8] = b"urne/v1/petition/signature\n";
/// The label of a withdrawal's context bytes (spec/32 §32.1).
pub(crate) const WITHDRAWAL_LABEL: &[u8] = b"urne/v1/petition/withdrawal\n";

/// The name of a petition kind, for messages.
pub(crate) fn kind_name(kind: Kind) -> &'static str {
    match kind {
        kinds::REGISTRY_SNAPSHOT => "registry.snapshot",
        kinds::REGISTRY_SNAPSHOT_PART => "registry.snapshot-part",
        kinds::PETITION_DEFINE => "petition.define",
        kinds::PETITION_SIGN => "petition.sign",
        kinds::PETITION_WITHDRAW => "petition.withdraw",
        kinds::PETITION_RESULT => "petition.result",
        kinds::PETITION_DUPLICATE => "petition.duplicate",
        _ => "a record of another kind",
    }
}

/// A petition's phase (spec/32 §32.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// 0: being defined.
    Draft,
    /// 1: taking signatures.
    Open,
    /// 2: closed, its result to post.
    Closed,
    /// 3: final, threshold reached.
    Reached,
    /// 4: final, not reached.
    NotReached,
}

impl Phase {
    /// The phase of a code, None for a code a petition does not have.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Draft,
            1 => Self::Open,
            2 => Self::Closed,
            3 => Self::Reached,
            4 => Self::NotReached,
            _ => return None,
        })
    }

    /// Its name in spec/32 §32.3.
    pub fn name(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Reached => "reached",
            Self::NotReached => "not-reached",
        }
    }

    /// The moves of §32.3 (their conditions are the fold's).
    pub(crate) fn may_move(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Draft, Self::Open)
                | (Self::Open, Self::Closed)
                | (Self::Closed, Self::Reached | Self::NotReached)
        )
    }
}

/// Why a body was refused: the field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub field: String,
    pub message: String,
}

pub(crate) fn refuse(field: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal {
        field: field.into(),
        message: message.into(),
    }
}

fn read<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

fn expect_version(bytes: &[u8], version: u8) -> Result<(), Refusal> {
    match bytes.first() {
        None => Err(refuse("body", "empty")),
        Some(&v) if v == version => Ok(()),
        Some(v) => Err(refuse(
            "body.version",
            format!("version {v}, not {version}"),
        )),
    }
}

/// No protocol floor lower than this: a bucket with one registered key names its signer
/// (spec/32 §32.4).
const PROTOCOL_MIN_REAL_KEYS: u32 = 2;
const MAX_SCOPE: usize = 200;

/// `petition.define`, version 1 or 2 (spec/32 §32.4).
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    pub text_hash: [u8; 32],
    pub threshold: u64,
    /// 2^this keys at least in every bucket (1 for version 1).
    pub min_bucket_bits: u8,
    /// Registered keys at least in the smallest bucket (2 for version 1).
    pub min_real_keys: u32,
    /// The oldest snapshot number taken (1 for version 1).
    pub min_snapshot: u32,
    /// The minimum bin if a district may be disclosed (never for version 1).
    pub min_bin: Option<u32>,
    /// Version 2: takes only a version-2 snapshot.
    pub version_2: bool,
    pub registry: [u8; 32],
    pub registrars: Registrars,
}

impl Definition {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Refusal> {
        let version_2 = match bytes.first() {
            Some(2) => true,
            _ => {
                expect_version(bytes, 1)?;
                false
            }
        };
        // version, text hash, threshold, deadline, scope length.
        if bytes.len() < 51 {
            return Err(refuse(
                "body",
                format!("{} bytes end inside the fixed fields (51)", bytes.len()),
            ));
        }
        let text_hash = read::<32>(bytes, 1);
        let threshold = u64::from_be_bytes(read(bytes, 33));
        if threshold == 0 {
            return Err(refuse("body.threshold", "0: at least 1 signature"));
        }
        let scope_length = usize::from(u16::from_be_bytes(read(bytes, 49)));
        if !(1..=MAX_SCOPE).contains(&scope_length) {
            return Err(refuse(
                "body.scope_length",
                format!("{scope_length} is not in 1..={MAX_SCOPE}"),
            ));
        }
        let policy_length = if version_2 { 14 } else { 0 };
        let registry_at = 51 + scope_length + policy_length;
        if bytes.len() < registry_at + 32 {
            return Err(refuse(
                "body.registry",
                format!(
                    "the body ends before the registry id ({} bytes)",
                    bytes.len()
                ),
            ));
        }
        let scope = std::str::from_utf8(&bytes[51..51 + scope_length])
            .map_err(|_| refuse("body.scope", "not UTF-8"))?;
        if scope.chars().any(char::is_control) || scope.trim().is_empty() {
            return Err(refuse(
                "body.scope",
                "a control character, or only white space",
            ));
        }
        // The policy before the registrars: fields in body order, so the fault named is
        // the first in the bytes.
        let (mut min_bucket_bits, mut min_real_keys, mut min_snapshot, mut min_bin) =
            (1, PROTOCOL_MIN_REAL_KEYS, 1, None);
        if version_2 {
            let policy = &bytes[51 + scope_length..registry_at];
            let bits = policy[0];
            if !(1..=16).contains(&bits) {
                return Err(refuse(
                    "body.min_bucket_bits",
                    format!("{bits} is not in 1..=16"),
                ));
            }
            let real = u32::from_be_bytes(read(policy, 1));
            if real < PROTOCOL_MIN_REAL_KEYS || real > 1 << bits {
                return Err(refuse(
                    "body.min_real_keys",
                    format!(
                        "{real} is not in {PROTOCOL_MIN_REAL_KEYS}..={} (buckets of 2^{bits})",
                        1u32 << bits
                    ),
                ));
            }
            let oldest = u32::from_be_bytes(read(policy, 5));
            if oldest == 0 {
                return Err(refuse("body.min_snapshot", "0: at least 1"));
            }
            let bin = u32::from_be_bytes(read(policy, 10));
            min_bin = match (policy[9], bin) {
                (0, 0) => None,
                (0, _) => {
                    return Err(refuse(
                        "body.min_bin",
                        format!("{bin}, where no attribute may be disclosed: must be 0"),
                    ));
                }
                (1, 0) => {
                    return Err(refuse(
                        "body.min_bin",
                        "0, where a district may be disclosed: at least 1",
                    ));
                }
                (1, bin) => Some(bin),
                (other, _) => {
                    return Err(refuse(
                        "body.disclosure",
                        format!("{other} is neither 0 (none) nor 1 (district)"),
                    ));
                }
            };
            (min_bucket_bits, min_real_keys, min_snapshot) = (bits, real, oldest);
        }
        Ok(Self {
            text_hash,
            threshold,
            min_bucket_bits,
            min_real_keys,
            min_snapshot,
            min_bin,
            version_2,
            registry: read(bytes, registry_at),
            registrars: Registrars::decode(&bytes[registry_at + 32..])
                .map_err(|e| refuse("body.registrars", e.to_string()))?,
        })
    }
}

/// `petition.sign` and `petition.withdraw` (spec/32 §32.4): the signature is decoded
/// later, against its bucket's ring size.
#[derive(Clone, Debug)]
pub(crate) struct SignatureBody<'a> {
    pub bucket: u32,
    pub disclosed: Option<u32>,
    /// The disclosure as the body carries it (what the context bytes bind).
    pub disclosure: &'a [u8],
    pub signature: &'a [u8],
}

impl<'a> SignatureBody<'a> {
    /// Decodes a body whose fields are named under `prefix` (`body`, or `body.signed`
    /// for the one a duplicate embeds).
    pub(crate) fn decode(bytes: &'a [u8], prefix: &str) -> Result<Self, Refusal> {
        expect_version(bytes, 1).map_err(|r| Refusal {
            field: r.field.replacen("body", prefix, 1),
            ..r
        })?;
        if bytes.len() < 6 {
            return Err(refuse(
                prefix,
                format!(
                    "{} bytes end inside version, bucket and disclosure",
                    bytes.len()
                ),
            ));
        }
        let bucket = u32::from_be_bytes(read(bytes, 1));
        let (disclosed, end) = match bytes[5] {
            0 => (None, 6),
            1 => {
                if bytes.len() < 10 {
                    return Err(refuse(
                        format!("{prefix}.disclosure"),
                        "the body ends inside the disclosed district",
                    ));
                }
                let district = u32::from_be_bytes(read(bytes, 6));
                if district == 0 {
                    return Err(refuse(
                        format!("{prefix}.disclosure"),
                        "district 0 is no district",
                    ));
                }
                (Some(district), 10)
            }
            other => {
                return Err(refuse(
                    format!("{prefix}.disclosure"),
                    format!("{other} is neither 0 (nothing disclosed) nor 1 (a district)"),
                ));
            }
        };
        Ok(Self {
            bucket,
            disclosed,
            disclosure: &bytes[5..end],
            signature: &bytes[end..],
        })
    }
}

/// `petition.duplicate` (spec/32 §32.4): the refused record's envelope key and body.
pub(crate) struct Duplicate<'a> {
    pub signer: [u8; 32],
    /// The refused record's body, as posted.
    pub signed: &'a [u8],
    pub body: SignatureBody<'a>,
}

impl<'a> Duplicate<'a> {
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<Self, Refusal> {
        expect_version(bytes, 1)?;
        if bytes.len() < 33 {
            return Err(refuse(
                "body.signer",
                "the body ends inside the refused record's signer key",
            ));
        }
        Ok(Self {
            signer: read(bytes, 1),
            signed: &bytes[33..],
            body: SignatureBody::decode(&bytes[33..], "body.signed")?,
        })
    }
}

/// `petition.result` (spec/32 §32.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PetitionResult {
    /// Tags signed and not withdrawn.
    pub counted: u64,
    /// Tags withdrawn.
    pub withdrawn: u64,
    /// Whether counted reached the threshold.
    pub reached: bool,
}

impl PetitionResult {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Refusal> {
        expect_version(bytes, 1)?;
        if bytes.len() != 18 {
            return Err(refuse("body", format!("{} bytes, not 18", bytes.len())));
        }
        let reached = match bytes[17] {
            0 => false,
            1 => true,
            other => {
                return Err(refuse(
                    "body.reached",
                    format!("{other} is neither 0 nor 1"),
                ));
            }
        };
        Ok(Self {
            counted: u64::from_be_bytes(read(bytes, 1)),
            withdrawn: u64::from_be_bytes(read(bytes, 9)),
            reached,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registrars() -> Vec<u8> {
        // version 1, k = 1, n = 1, one Ed25519 key (the basepoint's encoding).
        let mut out = vec![1, 1, 1];
        out.extend_from_slice(&[
            0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
            0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
            0x66, 0x66, 0x66, 0x66,
        ]);
        out
    }

    fn definition_v2(policy: [u8; 14]) -> Vec<u8> {
        let mut out = vec![2];
        out.extend_from_slice(&[7; 32]);
        out.extend_from_slice(&3u64.to_be_bytes());
        out.extend_from_slice(&1_900_000_000u64.to_be_bytes());
        out.extend_from_slice(&5u16.to_be_bytes());
        out.extend_from_slice(b"scope");
        out.extend_from_slice(&policy);
        out.extend_from_slice(&[4; 32]);
        out.extend_from_slice(&registrars());
        out
    }

    fn policy(bits: u8, real: u32, oldest: u32, disclosure: u8, bin: u32) -> [u8; 14] {
        let mut p = [0u8; 14];
        p[0] = bits;
        p[1..5].copy_from_slice(&real.to_be_bytes());
        p[5..9].copy_from_slice(&oldest.to_be_bytes());
        p[9] = disclosure;
        p[10..14].copy_from_slice(&bin.to_be_bytes());
        p
    }

    fn field_of(bytes: &[u8]) -> String {
        Definition::decode(bytes)
            .err()
            .map(|r| r.field)
            .unwrap_or_default()
    }

    #[test]
    fn a_version_2_definition_decodes_its_policy() {
        let d = Definition::decode(&definition_v2(policy(3, 4, 2, 1, 50))).unwrap();
        assert_eq!(
            (
                d.min_bucket_bits,
                d.min_real_keys,
                d.min_snapshot,
                d.min_bin
            ),
            (3, 4, 2, Some(50))
        );
        assert!(d.version_2);
        assert_eq!((d.threshold, d.registry), (3, [4; 32]));
    }

    #[test]
    fn a_policy_out_of_its_ranges_is_refused_naming_the_field() {
        assert_eq!(
            field_of(&definition_v2(policy(0, 2, 1, 0, 0))),
            "body.min_bucket_bits"
        );
        assert_eq!(
            field_of(&definition_v2(policy(17, 2, 1, 0, 0))),
            "body.min_bucket_bits"
        );
        assert_eq!(
            field_of(&definition_v2(policy(3, 1, 1, 0, 0))),
            "body.min_real_keys"
        );
        assert_eq!(
            field_of(&definition_v2(policy(3, 9, 1, 0, 0))),
            "body.min_real_keys"
        );
        assert_eq!(
            field_of(&definition_v2(policy(3, 2, 0, 0, 0))),
            "body.min_snapshot"
        );
        assert_eq!(
            field_of(&definition_v2(policy(3, 2, 1, 0, 5))),
            "body.min_bin"
        );
        assert_eq!(
            field_of(&definition_v2(policy(3, 2, 1, 1, 0))),
            "body.min_bin"
        );
        assert_eq!(
            field_of(&definition_v2(policy(3, 2, 1, 2, 5))),
            "body.disclosure"
        );
    }

    #[test]
    fn a_definition_s_fixed_fields_are_checked() {
        let good = definition_v2(policy(3, 2, 1, 0, 0));
        let mut zero = good.clone();
        zero[33..41].copy_from_slice(&0u64.to_be_bytes());
        assert_eq!(field_of(&zero), "body.threshold");
        let mut control = good.clone();
        control[51] = b'\n';
        assert_eq!(field_of(&control), "body.scope");
        let mut version = good.clone();
        version[0] = 3;
        assert_eq!(field_of(&version), "body.version");
        assert_eq!(field_of(&good[..good.len() - 10]), "body.registrars");
        assert_eq!(field_of(&good[..80]), "body.registry");
        assert_eq!(field_of(&good[..50]), "body");
    }

    #[test]
    fn signature_bodies_are_decoded_strictly() {
        let refused = |bytes: &[u8]| SignatureBody::decode(bytes, "body").err().unwrap().field;
        assert_eq!(refused(&[1, 0, 0, 0, 1, 2]), "body.disclosure");
        assert_eq!(refused(&[1, 0, 0, 0, 1, 1, 0, 0]), "body.disclosure");
        assert_eq!(refused(&[1, 0, 0, 0, 1, 1, 0, 0, 0, 0]), "body.disclosure");
        assert_eq!(refused(&[2, 0, 0, 0, 1, 0]), "body.version");
        assert_eq!(refused(&[1, 0, 0]), "body");
        let body = SignatureBody::decode(&[1, 0, 0, 0, 9, 1, 0, 0, 0, 5, 0xaa], "body").unwrap();
        assert_eq!((body.bucket, body.disclosed), (9, Some(5)));
        assert_eq!(
            (body.disclosure, body.signature),
            (&[1, 0, 0, 0, 5][..], &[0xaa][..])
        );
        let mut duplicate = vec![1];
        duplicate.extend_from_slice(&[3; 32]);
        duplicate.extend_from_slice(&[1, 0, 0, 0, 1, 7]);
        assert_eq!(
            Duplicate::decode(&duplicate).err().unwrap().field,
            "body.signed.disclosure"
        );
        assert_eq!(
            Duplicate::decode(&[1, 2]).err().unwrap().field,
            "body.signer"
        );
    }

    #[test]
    fn a_result_is_decoded_strictly() {
        let mut result = vec![1];
        result.extend_from_slice(&4u64.to_be_bytes());
        result.extend_from_slice(&1u64.to_be_bytes());
        result.push(1);
        assert_eq!(
            PetitionResult::decode(&result).unwrap(),
            PetitionResult {
                counted: 4,
                withdrawn: 1,
                reached: true
            }
        );
        result[17] = 2;
        assert_eq!(
            PetitionResult::decode(&result).err().unwrap().field,
            "body.reached"
        );
        assert_eq!(
            PetitionResult::decode(&result[..17]).err().unwrap().field,
            "body"
        );
    }
}
