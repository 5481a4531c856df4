//! The record envelope (spec/12-records.md). Pure: no storage, no board state.
//!
//! ```text
//! record = version (u8 = 1)
//!        ‖ context id (32 bytes)
//!        ‖ kind (u16, big-endian)
//!        ‖ body length (u32, big-endian) ‖ body
//!        ‖ signer (32-byte Ed25519 public key)
//!        ‖ signature (64 bytes)
//! ```
//!
//! The signature is Ed25519 over `"urne/v1/record\n" ‖ SHA-256(everything before the
//! signature)`, verified with `verify_strict`. A record is stored, hashed and served as
//! the exact bytes received.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::Rejection;

/// Envelope format version.
pub const RECORD_VERSION: u8 = 1;
/// Domain label of record signatures (frozen).
pub const RECORD_SIGNATURE_LABEL: &[u8] = b"urne/v1/record\n";
/// Bytes of an envelope around an empty body.
pub const ENVELOPE_OVERHEAD: usize = 1 + 32 + 2 + 4 + 32 + 64;

/// The context a record belongs to: an election, petition or sitting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextId(pub [u8; 32]);

impl ContextId {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        urne_log::hash::hex(&self.0)
    }

    /// Parses 64 lowercase hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        urne_log::Hash::from_hex(text).map(|h| Self(h.0))
    }

    /// The id a context-open record gives its context: SHA-256("urne/v1/context\n" ‖
    /// the opening record's body). Deterministic, so anyone can recompute it.
    pub fn derive(open_body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"urne/v1/context\n");
        h.update(open_body);
        Self(h.finalize().into())
    }
}

impl fmt::Debug for ContextId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContextId({})", self.to_hex())
    }
}

/// A record kind code (registry in [`crate::kinds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(pub u16);

/// The phases of a context, in order (spec/12-records.md §12.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Parameters are set.
    Setup = 0,
    /// Trustees run the key ceremony.
    Ceremony = 1,
    /// Voters or signers are registered.
    Registration = 2,
    /// Ballots or signatures are accepted.
    Voting = 3,
    /// No more ballots.
    Closed = 4,
    /// Trustees decrypt.
    Tallying = 5,
    /// The result is published; nothing more is accepted.
    Published = 6,
}

impl Phase {
    /// All phases in order.
    pub const ALL: [Phase; 7] = [
        Phase::Setup,
        Phase::Ceremony,
        Phase::Registration,
        Phase::Voting,
        Phase::Closed,
        Phase::Tallying,
        Phase::Published,
    ];

    /// From its one-byte code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// Its one-byte code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The phase after this one.
    pub fn next(self) -> Option<Self> {
        Self::from_code(self.code() + 1)
    }

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Ceremony => "ceremony",
            Phase::Registration => "registration",
            Phase::Voting => "voting",
            Phase::Closed => "closed",
            Phase::Tallying => "tallying",
            Phase::Published => "published",
        }
    }

    /// From its lowercase name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A parsed record, with the exact bytes it was parsed from.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    bytes: Vec<u8>,
    context: ContextId,
    kind: Kind,
    body_start: usize,
    body_end: usize,
    signer: [u8; 32],
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("context", &self.context)
            .field("kind", &self.kind)
            .field("body_len", &(self.body_end - self.body_start))
            .finish_non_exhaustive()
    }
}

fn signed_message(unsigned: &[u8]) -> Vec<u8> {
    let mut message = RECORD_SIGNATURE_LABEL.to_vec();
    message.extend_from_slice(&Sha256::digest(unsigned));
    message
}

impl Record {
    /// Builds and signs a record.
    pub fn sign(
        context: ContextId,
        kind: Kind,
        body: &[u8],
        key: &SigningKey,
    ) -> Result<Self, Rejection> {
        let body_len = u32::try_from(body.len()).map_err(|_| Rejection::too_large(body.len()))?;
        let mut bytes = Vec::with_capacity(ENVELOPE_OVERHEAD + body.len());
        bytes.push(RECORD_VERSION);
        bytes.extend_from_slice(&context.0);
        bytes.extend_from_slice(&kind.0.to_be_bytes());
        bytes.extend_from_slice(&body_len.to_be_bytes());
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(key.verifying_key().as_bytes());
        let signature = key.sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature.to_bytes());
        Self::parse(bytes)
    }

    /// Parses the envelope strictly (version, exact lengths, no trailing bytes). The
    /// signature is not checked here: see [`Record::verify_signature`].
    pub fn parse(bytes: Vec<u8>) -> Result<Self, Rejection> {
        if bytes.len() < ENVELOPE_OVERHEAD {
            return Err(Rejection::malformed(
                "record",
                format!("{} bytes is shorter than an envelope", bytes.len()),
            ));
        }
        if bytes[0] != RECORD_VERSION {
            return Err(Rejection::malformed(
                "version",
                format!("unsupported record version {}", bytes[0]),
            ));
        }
        let mut context = [0u8; 32];
        context.copy_from_slice(&bytes[1..33]);
        let kind = Kind(u16::from_be_bytes([bytes[33], bytes[34]]));
        let body_len = u32::from_be_bytes([bytes[35], bytes[36], bytes[37], bytes[38]]) as usize;
        let expected = ENVELOPE_OVERHEAD.checked_add(body_len);
        if expected != Some(bytes.len()) {
            return Err(Rejection::malformed(
                "body_length",
                format!(
                    "body length {body_len} does not match the record's {} bytes",
                    bytes.len()
                ),
            ));
        }
        let body_start = 39;
        let body_end = body_start + body_len;
        let mut signer = [0u8; 32];
        signer.copy_from_slice(&bytes[body_end..body_end + 32]);
        Ok(Self {
            bytes,
            context: ContextId(context),
            kind,
            body_start,
            body_end,
            signer,
        })
    }

    /// Checks the Ed25519 signature with `verify_strict` (rejects small-order keys and
    /// non-canonical signatures).
    pub fn verify_signature(&self) -> Result<(), Rejection> {
        let key = VerifyingKey::from_bytes(&self.signer)
            .map_err(|_| Rejection::bad_signature("signer", "not a valid Ed25519 public key"))?;
        let sig_start = self.body_end + 32;
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&self.bytes[sig_start..sig_start + 64]);
        key.verify_strict(
            &signed_message(&self.bytes[..sig_start]),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| {
            Rejection::bad_signature("signature", "does not verify under the signer's key")
        })
    }

    /// The exact bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Consumes the record, returning its bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The context.
    pub fn context(&self) -> ContextId {
        self.context
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.body_start..self.body_end]
    }

    /// The signer's public key.
    pub fn signer(&self) -> &[u8; 32] {
        &self.signer
    }

    /// The record's hash: its RFC 6962 leaf hash, as the log computes it.
    pub fn hash(&self) -> urne_log::Hash {
        urne_log::leaf_hash(&self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    #[test]
    fn signed_records_parse_and_verify() {
        let r = Record::sign(ContextId([1; 32]), Kind(7), b"body", &key()).unwrap();
        let parsed = Record::parse(r.bytes().to_vec()).unwrap();
        assert_eq!(parsed, r);
        parsed.verify_signature().unwrap();
        assert_eq!(parsed.body(), b"body");
        assert_eq!(parsed.kind(), Kind(7));
    }

    #[test]
    fn every_altered_byte_breaks_the_record() {
        let r = Record::sign(ContextId([1; 32]), Kind(7), b"body", &key()).unwrap();
        for i in 0..r.bytes().len() {
            let mut bytes = r.bytes().to_vec();
            bytes[i] ^= 0x01;
            let rejected = match Record::parse(bytes) {
                Err(_) => true,
                Ok(p) => p.verify_signature().is_err(),
            };
            assert!(rejected, "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn malformed_envelopes_name_the_field() {
        let r = Record::sign(ContextId([1; 32]), Kind(7), b"body", &key()).unwrap();
        let mut long = r.bytes().to_vec();
        long.push(0);
        assert_eq!(
            Record::parse(long).unwrap_err().field.as_deref(),
            Some("body_length")
        );
        assert_eq!(Record::parse(vec![1; 10]).unwrap_err().code, "malformed");
        let mut v2 = r.bytes().to_vec();
        v2[0] = 2;
        assert_eq!(
            Record::parse(v2).unwrap_err().field.as_deref(),
            Some("version")
        );
    }

    #[test]
    fn phases_are_ordered_and_named() {
        assert_eq!(Phase::Setup.next(), Some(Phase::Ceremony));
        assert_eq!(Phase::Published.next(), None);
        for p in Phase::ALL {
            assert_eq!(Phase::from_name(p.name()), Some(p));
            assert_eq!(Phase::from_code(p.code()), Some(p));
        }
    }
}
