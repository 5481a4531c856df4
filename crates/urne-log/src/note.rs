//! C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures (type 0x01) and
//! timestamped Ed25519 witness cosignatures (type 0x04, c2sp.org/tlog-cosignature).
//!
//! Parsing is strict: valid UTF-8, no control character but newline (C0, DEL and C1 are
//! all refused), the text ends in a newline, a blank line, then one to 100 well-formed
//! signature lines. Signatures are checked with `verify_strict` only.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

/// Signature type of plain Ed25519 note signatures.
pub const SIGNATURE_TYPE_ED25519: u8 = 0x01;
/// Signature type of timestamped Ed25519 cosignatures.
pub const SIGNATURE_TYPE_COSIGNATURE: u8 = 0x04;
/// The most signature lines a note may carry (C2SP requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// The largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// Why a note was refused. `line` is 1-based within the whole note.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_BYTES`].
    TooLarge,
    /// Not valid UTF-8.
    NotUtf8,
    /// A control character other than newline (C0, DEL or C1), at this byte offset.
    ControlCharacter {
        /// Byte offset.
        offset: usize,
    },
    /// No blank line separates text and signatures, or the text is empty.
    MissingSeparator,
    /// A signature line that is not `— <name> <base64>`.
    MalformedSignatureLine {
        /// Line number.
        line: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// No signature lines, or more than [`MAX_SIGNATURES`].
    SignatureCount {
        /// How many there were.
        found: usize,
    },
    /// A key name that is empty or holds a space, a control character or `+`.
    BadKeyName,
    /// No signature by the expected key.
    NotSignedBy {
        /// The key's name.
        name: String,
    },
    /// A signature by the expected key that does not verify.
    BadSignature {
        /// The key's name.
        name: String,
    },
    /// A verifier key string (vkey) that does not parse or whose ID does not match.
    BadVerifierKey {
        /// What is wrong.
        detail: &'static str,
    },
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => write!(f, "note larger than {MAX_NOTE_BYTES} bytes"),
            Self::NotUtf8 => f.write_str("note is not valid UTF-8"),
            Self::ControlCharacter { offset } => write!(f, "control character at byte {offset}"),
            Self::MissingSeparator => {
                f.write_str("no blank line between a non-empty text and the signatures")
            }
            Self::MalformedSignatureLine { line, detail } => {
                write!(f, "signature line {line}: {detail}")
            }
            Self::SignatureCount { found } => {
                write!(f, "{found} signature lines (need 1 to {MAX_SIGNATURES})")
            }
            Self::BadKeyName => {
                f.write_str("key name is empty or contains a space, a control character or '+'")
            }
            Self::NotSignedBy { name } => write!(f, "no signature by key {name}"),
            Self::BadSignature { name } => write!(f, "signature by key {name} does not verify"),
            Self::BadVerifierKey { detail } => write!(f, "verifier key: {detail}"),
        }
    }
}

impl std::error::Error for NoteError {}

/// A key name: non-empty, no Unicode whitespace, no `+`, no control character (C0, DEL,
/// C1: `char::is_control` is exactly general category Cc).
pub(crate) fn valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', signature_type]);
    h.update(public_key);
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— <name> <base64(key ID ‖ signature)>\n`, as a note or a
    /// tlog-witness response carries it.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("— {} {}\n", self.name, STANDARD.encode(raw))
    }
}

/// A note: text and signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// Refuses every control character but newline: C0 (U+0000–U+001F), DEL (U+007F) and
/// C1 (U+0080–U+009F). C1 controls are two bytes in UTF-8, so a byte test alone misses
/// them; the offset reported is the character's first byte.
fn check_characters(text: &str) -> Result<(), NoteError> {
    match text
        .char_indices()
        .find(|&(_, c)| c.is_control() && c != '\n')
    {
        Some((offset, _)) => Err(NoteError::ControlCharacter { offset }),
        None => Ok(()),
    }
}

impl Note {
    /// A note with no signatures yet. The text must end in a newline, hold no blank
    /// line at its end and no control characters.
    pub fn new(text: &str) -> Result<Self, NoteError> {
        check_characters(text)?;
        if text.is_empty() || !text.ends_with('\n') || text.ends_with("\n\n") || text == "\n" {
            return Err(NoteError::MissingSeparator);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge);
        }
        let all = core::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_characters(all)?;
        let split = all.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        // "\n\n" is two one-byte characters: both cuts fall on character boundaries.
        let (text, block) = match (all.get(..=split), all.get(split + 2..)) {
            (Some(text), Some(block)) => (text, block),
            _ => return Err(NoteError::MissingSeparator),
        };
        if text.is_empty() || text == "\n" {
            return Err(NoteError::MissingSeparator);
        }
        let text_lines = text.matches('\n').count().saturating_add(1); // the blank line
        let Some(block) = block.strip_suffix('\n') else {
            return Err(NoteError::MalformedSignatureLine {
                line: text_lines.saturating_add(1),
                detail: "does not end in a newline",
            });
        };
        let mut signatures = Vec::new();
        for (i, line) in block.split('\n').enumerate() {
            let line_no = text_lines.saturating_add(1).saturating_add(i);
            let bad = |detail| NoteError::MalformedSignatureLine {
                line: line_no,
                detail,
            };
            let rest = line
                .strip_prefix("— ")
                .ok_or(bad("does not start with an em dash and a space"))?;
            let (name, encoded) = rest
                .split_once(' ')
                .ok_or(bad("no space between name and signature"))?;
            if !valid_key_name(name) {
                return Err(bad("invalid key name"));
            }
            let raw = STANDARD
                .decode(encoded)
                .map_err(|_| bad("signature is not canonical base64"))?;
            let Some((id, signature)) = raw.split_first_chunk::<4>() else {
                return Err(bad("signature shorter than a key ID and one byte"));
            };
            if signature.is_empty() {
                return Err(bad("signature shorter than a key ID and one byte"));
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id: u32::from_be_bytes(*id),
                signature: signature.to_vec(),
            });
            if signatures.len() > MAX_SIGNATURES {
                return Err(NoteError::SignatureCount {
                    found: signatures.len(),
                });
            }
        }
        if signatures.is_empty() {
            return Err(NoteError::SignatureCount { found: 0 });
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, final newline included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line (replacing one by the same name and key ID).
    pub fn add_signature(&mut self, signature: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        self.signatures.push(signature);
    }

    /// The note's bytes: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }
}

/// An Ed25519 key with a name, signing notes of one signature type: 0x01 for plain note
/// signatures ([`NoteSigner`]), 0x04 for timestamped cosignatures ([`Cosigner`]). One
/// type for both, so the two cannot drift apart in how they name and hold a key.
pub struct SigningKeyOf<const SIGNATURE_TYPE: u8> {
    name: String,
    key: SigningKey,
}

/// The board's note signer (Ed25519, type 0x01).
pub type NoteSigner = SigningKeyOf<SIGNATURE_TYPE_ED25519>;
/// A witness's cosigning key (tlog-cosignature, Ed25519, type 0x04).
pub type Cosigner = SigningKeyOf<SIGNATURE_TYPE_COSIGNATURE>;

impl<const SIGNATURE_TYPE: u8> fmt::Debug for SigningKeyOf<SIGNATURE_TYPE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("signature_type", &SIGNATURE_TYPE)
            .finish_non_exhaustive()
    }
}

impl<const SIGNATURE_TYPE: u8> SigningKeyOf<SIGNATURE_TYPE> {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// A fresh key.
    pub fn generate<R: CryptoRng + ?Sized>(name: &str, rng: &mut R) -> Result<Self, NoteError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(name, &seed)
    }

    /// The matching verifier.
    pub fn verifier(&self) -> VerifierKeyOf<SIGNATURE_TYPE> {
        VerifierKeyOf {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    fn line(&self, signature: Vec<u8>) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: key_id(
                &self.name,
                SIGNATURE_TYPE,
                self.key.verifying_key().as_bytes(),
            ),
            signature,
        }
    }
}

impl NoteSigner {
    /// Signs the note's text and adds the signature.
    pub fn sign(&self, note: &mut Note) {
        let signature = self.key.sign(note.text.as_bytes());
        note.add_signature(self.line(signature.to_bytes().to_vec()));
    }
}

/// The message a v1 cosignature signs: `cosignature/v1\ntime <t>\n` then the checkpoint text.
fn cosigned_message(text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

impl Cosigner {
    /// The cosignature line for a checkpoint text at `timestamp` (POSIX seconds).
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> NoteSignature {
        let signature = self.key.sign(&cosigned_message(checkpoint_text, timestamp));
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        self.line(bytes)
    }
}

fn verify_ed25519(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .is_ok()
}

/// A named Ed25519 public key verifying one signature type: [`NoteVerifier`] (0x01) or
/// [`CosignatureVerifier`] (0x04). The type byte is part of the key ID and the vkey, so a
/// key of one type never verifies lines of the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKeyOf<const SIGNATURE_TYPE: u8> {
    name: String,
    key: VerifyingKey,
}

/// Verifies Ed25519 note signatures by one key (the board's).
pub type NoteVerifier = VerifierKeyOf<SIGNATURE_TYPE_ED25519>;
/// Verifies one witness's cosignatures.
pub type CosignatureVerifier = VerifierKeyOf<SIGNATURE_TYPE_COSIGNATURE>;

impl<const SIGNATURE_TYPE: u8> VerifierKeyOf<SIGNATURE_TYPE> {
    /// From a name and a 32-byte public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| NoteError::BadVerifierKey {
            detail: "not an Ed25519 public key",
        })?;
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    /// Parses a vkey `<name>+<hex key id>+<base64(type ‖ key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let bad = |detail| NoteError::BadVerifierKey { detail };
        // The key's base64 may itself contain '+': only the first two separate fields.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        if !valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        if id.len() != 8
            || !id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("key id is not 8 lowercase hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("key id is not hex"))?;
        let raw = STANDARD
            .decode(key)
            .map_err(|_| bad("key is not canonical base64"))?;
        let Some((&signature_type, public)) = raw.split_first() else {
            return Err(bad("key is empty"));
        };
        if signature_type != SIGNATURE_TYPE {
            return Err(bad("key is of another signature type"));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| bad("key is not the signature type byte and 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 public key"))?;
        if key_id(name, SIGNATURE_TYPE, &public) != id {
            return Err(bad("key id does not match name and key"));
        }
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    /// The vkey string.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![SIGNATURE_TYPE];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            STANDARD.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, SIGNATURE_TYPE, self.key.as_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    fn lines<'a>(&'a self, note: &'a Note) -> impl Iterator<Item = &'a NoteSignature> {
        let id = self.key_id();
        note.signatures
            .iter()
            .filter(move |s| s.name == self.name && s.key_id == id)
    }
}

impl NoteVerifier {
    /// Accepts the note if it carries a signature by this key and every signature by
    /// this key verifies.
    pub fn verify(&self, note: &Note) -> Result<(), NoteError> {
        let mut found = false;
        for s in self.lines(note) {
            if !verify_ed25519(&self.key, note.text.as_bytes(), &s.signature) {
                return Err(NoteError::BadSignature {
                    name: self.name.clone(),
                });
            }
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(NoteError::NotSignedBy {
                name: self.name.clone(),
            })
        }
    }
}

impl CosignatureVerifier {
    /// Checks one signature line against a checkpoint text; returns its timestamp.
    pub fn verify_line(
        &self,
        checkpoint_text: &str,
        line: &NoteSignature,
    ) -> Result<u64, NoteError> {
        let bad = || NoteError::BadSignature {
            name: self.name.clone(),
        };
        if line.name != self.name || line.key_id != self.key_id() {
            return Err(bad());
        }
        let Some((ts, signature)) = line.signature.split_first_chunk::<8>() else {
            return Err(bad());
        };
        let timestamp = u64::from_be_bytes(*ts);
        if timestamp > i64::MAX as u64 {
            return Err(bad());
        }
        if !verify_ed25519(
            &self.key,
            &cosigned_message(checkpoint_text, timestamp),
            signature,
        ) {
            return Err(bad());
        }
        Ok(timestamp)
    }

    /// Accepts a note cosigned by this witness (every line by it must verify); returns
    /// the newest timestamp.
    pub fn verify(&self, note: &Note) -> Result<u64, NoteError> {
        let mut newest = None;
        for s in self.lines(note) {
            let t = self.verify_line(&note.text, s)?;
            newest = Some(newest.map_or(t, |n: u64| n.max(t)));
        }
        newest.ok_or_else(|| NoteError::NotSignedBy {
            name: self.name.clone(),
        })
    }
}

/// How many distinct witnesses among `witnesses` validly cosigned the note (a client's
/// quorum check). A public key listed twice — under one name or two — counts once: a
/// quorum of k means k different keys.
pub fn count_cosignatures(note: &Note, witnesses: &[CosignatureVerifier]) -> usize {
    witnesses
        .iter()
        .enumerate()
        .filter(|(i, w)| !witnesses[..*i].iter().any(|earlier| earlier.key == w.key))
        .filter(|(_, w)| w.verify(note).is_ok())
        .count()
}
