//! The envelope (spec/12-records.md §12.1).
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
//! signature)`, verified with `verify_strict`.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::context::ContextId;
use crate::error::RecordError;

/// Envelope format version.
pub const RECORD_VERSION: u8 = 1;
/// Domain label of record signatures (frozen, spec/12 §12.1).
pub const RECORD_SIGNATURE_LABEL: &[u8] = b"urne/v1/record\n";
/// Bytes of an envelope around an empty body.
pub const ENVELOPE_OVERHEAD: usize = 1 + 32 + 2 + 4 + 32 + 64;
/// Largest record, in bytes (spec/10-log.md §10.4: a log entry is at most 65,535 bytes).
pub const MAX_RECORD_BYTES: usize = 65_535;

const BODY_START: usize = 1 + 32 + 2 + 4;

/// A record kind code (spec/12 §12.2; the built-in codes are in [`crate::kinds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(pub u16);

/// A record's RFC 6962 leaf hash, SHA-256(0x00 ‖ record): its hash on the board.
pub fn leaf_hash(record: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(record);
    h.finalize().into()
}

/// A parsed record, holding the exact bytes it was parsed from.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    bytes: Vec<u8>,
    context: ContextId,
    kind: Kind,
    body_end: usize,
    signer: [u8; 32],
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("context", &self.context)
            .field("kind", &self.kind)
            .field("body_len", &(self.body_end - BODY_START))
            .finish_non_exhaustive()
    }
}

fn signed_message(unsigned: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(RECORD_SIGNATURE_LABEL.len() + 32);
    message.extend_from_slice(RECORD_SIGNATURE_LABEL);
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
    ) -> Result<Self, RecordError> {
        let len = ENVELOPE_OVERHEAD.saturating_add(body.len());
        let body_len = u32::try_from(body.len()).map_err(|_| RecordError::TooLarge { len })?;
        if len > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge { len });
        }
        let mut bytes = Vec::with_capacity(len);
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

    /// Parses the envelope strictly, in the order of spec/12 §12.1: size limit, length
    /// of an empty envelope, version, declared body length against the actual length
    /// (so no trailing bytes). The signature is not checked here: see
    /// [`Record::verify_signature`].
    pub fn parse(bytes: Vec<u8>) -> Result<Self, RecordError> {
        let len = bytes.len();
        if len > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge { len });
        }
        if len < ENVELOPE_OVERHEAD {
            return Err(RecordError::TooShort { len });
        }
        if bytes[0] != RECORD_VERSION {
            return Err(RecordError::Version(bytes[0]));
        }
        let mut context = [0u8; 32];
        context.copy_from_slice(&bytes[1..33]);
        let kind = Kind(u16::from_be_bytes([bytes[33], bytes[34]]));
        let declared = u32::from_be_bytes([bytes[35], bytes[36], bytes[37], bytes[38]]);
        let expected = usize::try_from(declared)
            .ok()
            .and_then(|l| ENVELOPE_OVERHEAD.checked_add(l));
        if expected != Some(len) {
            return Err(RecordError::BodyLength {
                declared,
                actual: len,
            });
        }
        let body_end = len - 96;
        let mut signer = [0u8; 32];
        signer.copy_from_slice(&bytes[body_end..body_end + 32]);
        Ok(Self {
            bytes,
            context: ContextId(context),
            kind,
            body_end,
            signer,
        })
    }

    /// Checks the Ed25519 signature with `verify_strict` (rejects small-order keys and
    /// non-canonical signatures).
    pub fn verify_signature(&self) -> Result<(), RecordError> {
        let key = VerifyingKey::from_bytes(&self.signer).map_err(|_| RecordError::SignerKey)?;
        key.verify_strict(
            &self.signed_message(),
            &Signature::from_bytes(&self.signature()),
        )
        .map_err(|_| RecordError::Signature)
    }

    /// The message its signature covers (spec/12 §12.1): `"urne/v1/record\n"` ‖
    /// SHA-256 of every byte before the signature. What a batch verifier checks.
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(&self.bytes[..self.body_end + 32])
    }

    /// Its 64 signature bytes.
    pub fn signature(&self) -> [u8; 64] {
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&self.bytes[self.body_end + 32..]);
        sig
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
        &self.bytes[BODY_START..self.body_end]
    }

    /// The signer's public key.
    pub fn signer(&self) -> &[u8; 32] {
        &self.signer
    }

    /// The record's hash on the board: its RFC 6962 leaf hash.
    pub fn hash(&self) -> [u8; 32] {
        leaf_hash(&self.bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
        assert_eq!(parsed.context(), ContextId([1; 32]));
        assert_eq!(parsed.signer(), key().verifying_key().as_bytes());
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
        let e = Record::parse(long).unwrap_err();
        assert_eq!((e.code(), e.field()), ("malformed", "body_length"));
        let e = Record::parse(vec![1; 10]).unwrap_err();
        assert_eq!((e.code(), e.field()), ("malformed", "record"));
        let mut v2 = r.bytes().to_vec();
        v2[0] = 2;
        let e = Record::parse(v2).unwrap_err();
        assert_eq!((e.code(), e.field()), ("malformed", "version"));
        let e = Record::parse(vec![1; MAX_RECORD_BYTES + 1]).unwrap_err();
        assert_eq!((e.code(), e.field()), ("too-large", "record"));
        let mut bad_signature = r.bytes().to_vec();
        let last = bad_signature.len() - 1;
        bad_signature[last] ^= 0x40;
        let e = Record::parse(bad_signature)
            .unwrap()
            .verify_signature()
            .unwrap_err();
        assert_eq!((e.code(), e.field()), ("bad-signature", "signature"));
    }

    #[test]
    fn a_body_that_would_exceed_the_limit_is_not_signed() {
        let body = vec![0u8; MAX_RECORD_BYTES - ENVELOPE_OVERHEAD + 1];
        let e = Record::sign(ContextId([1; 32]), Kind(7), &body, &key()).unwrap_err();
        assert_eq!(e.code(), "too-large");
        let body = vec![0u8; MAX_RECORD_BYTES - ENVELOPE_OVERHEAD];
        assert!(Record::sign(ContextId([1; 32]), Kind(7), &body, &key()).is_ok());
    }

    #[test]
    fn a_small_order_signer_is_refused_by_strict_verification() {
        let r = Record::sign(ContextId([1; 32]), Kind(7), b"body", &key()).unwrap();
        let mut bytes = r.bytes().to_vec();
        let signer_at = bytes.len() - 96;
        // The identity point: a small-order key verify_strict refuses whatever the signature.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        bytes[signer_at..signer_at + 32].copy_from_slice(&identity);
        let e = Record::parse(bytes)
            .unwrap()
            .verify_signature()
            .unwrap_err();
        assert_eq!(e.code(), "bad-signature");
    }
}
