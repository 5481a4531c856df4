//! Petition record bodies (spec/32 §32.4), decoded strictly, naming the field at fault.

use urne_credential::registry::Registrars;

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

/// `petition.define`:
///
/// ```text
/// version (0x01) ‖ text hash (32) ‖ threshold (u64 BE, ≥ 1) ‖ deadline (u64 BE, Unix seconds)
///   ‖ scope length (u16 BE, 1–200) ‖ scope (UTF-8) ‖ registry id (32) ‖ registrars (spec/31 §31.2)
/// ```
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
    /// The registry whose snapshot it uses.
    pub registry: [u8; 32],
    /// That registry's registrars, who cosign the snapshot.
    pub registrars: Registrars,
}

impl Definition {
    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.text_hash);
        out.extend_from_slice(&self.threshold.to_be_bytes());
        out.extend_from_slice(&self.deadline.to_be_bytes());
        out.extend_from_slice(&(self.scope.len() as u16).to_be_bytes());
        out.extend_from_slice(self.scope.as_bytes());
        out.extend_from_slice(&self.registry);
        out.extend_from_slice(&self.registrars.to_bytes());
        out
    }

    /// Decodes strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        version(bytes)?;
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
        short(bytes, 51 + scope_len + 32, "body.registry")?;
        let scope = std::str::from_utf8(&bytes[51..51 + scope_len])
            .map_err(|_| PetitionError::invalid("body.scope", "not UTF-8"))?;
        if scope.chars().any(char::is_control) || scope.trim().is_empty() {
            return Err(PetitionError::invalid(
                "body.scope",
                "control characters, or only white space",
            ));
        }
        let registry = a32(&bytes[51 + scope_len..]);
        let registrars = Registrars::decode(&bytes[51 + scope_len + 32..])
            .map_err(|e| PetitionError::invalid("body.registrars", e.to_string()))?;
        Ok(Self {
            text_hash,
            threshold,
            deadline,
            scope: scope.to_owned(),
            registry,
            registrars,
        })
    }
}

/// `petition.sign` and `petition.withdraw`:
///
/// ```text
/// version (0x01) ‖ bucket (u32 BE) ‖ disclosure (1: 0x00, none) ‖ ring signature (spec/08 §8.6)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureBody {
    /// The bucket whose ring the signature is over.
    pub bucket: u32,
    /// The ring signature's bytes (decoded against the bucket's ring size).
    pub signature: Vec<u8>,
}

impl SignatureBody {
    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 + self.signature.len());
        out.push(VERSION);
        out.extend_from_slice(&self.bucket.to_be_bytes());
        out.push(0);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes the frame; the signature is decoded against its ring later.
    pub fn decode(bytes: &[u8]) -> Result<Self, PetitionError> {
        version(bytes)?;
        short(bytes, 6, "body")?;
        if bytes[5] != 0 {
            return Err(PetitionError::invalid(
                "body.disclosure",
                "attribute disclosure is not in this version (0x00 only)",
            ));
        }
        Ok(Self {
            bucket: u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]),
            signature: bytes[6..].to_vec(),
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
