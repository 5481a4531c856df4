//! Contexts (spec/12-records.md §12.3–§12.4): the id every record carries, the body of
//! `context.open` that creates one, and the body of `context.phase` that moves it.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::error::RecordError;
use crate::hex;

/// Domain label of context ids (frozen, spec/12 §12.4). `v2`: the id binds the opening
/// authority's key, which the first derivation (`urne/v1/context`) did not.
pub const CONTEXT_ID_LABEL: &[u8] = b"urne/v2/context\n";
/// The version byte of a `context.open` body.
pub const CONTEXT_OPEN_VERSION: u8 = 2;
/// Bytes of the nonce in a `context.open` body.
pub const CONTEXT_NONCE_BYTES: usize = 16;
/// Largest context name, in bytes of UTF-8.
pub const MAX_CONTEXT_NAME: usize = 200;

/// The context a record belongs to: an election, petition or sitting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextId(pub [u8; 32]);

impl ContextId {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses 64 lowercase hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        hex::decode32(text).map(Self)
    }

    /// The id of the context that `authority` opens with `open_body`:
    /// SHA-256("urne/v2/context\n" ‖ authority's Ed25519 key ‖ body). Binding the key
    /// means no one else can open (and so own) the context first by replaying the
    /// body; the nonce in the body means two identical elections get two ids.
    pub fn derive(authority: &[u8; 32], open_body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(CONTEXT_ID_LABEL);
        h.update(authority);
        h.update(open_body);
        Self(h.finalize().into())
    }
}

impl fmt::Debug for ContextId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContextId({})", self.to_hex())
    }
}

impl fmt::Display for ContextId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The type of a context: which state machine (phases, transitions, record kinds) it
/// follows. The machines belong to the domain crates; the codes are fixed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextType(pub u16);

impl ContextType {
    /// An election (spec/12 §12.3 lists its phases).
    pub const ELECTION: Self = Self(1);
    /// A petition.
    pub const PETITION: Self = Self(2);
    /// A sitting of an assembly.
    pub const SITTING: Self = Self(3);
}

/// Why a context name is refused (spec/12 §12.4).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty, or longer than 200 bytes.
    #[error("must be 1 to 200 bytes of UTF-8, not {0}")]
    Length(usize),
    /// Not UTF-8.
    #[error("is not UTF-8")]
    NotUtf8,
    /// Only white space: it would display as nothing.
    #[error("is only white space")]
    Blank,
    /// A control, format, bidirectional-override, separator or invisible character,
    /// which would let a name display as something other than its bytes.
    #[error("contains U+{0:04X}, a control, format, separator or invisible character")]
    Forbidden(u32),
}

/// Format characters (Unicode general category Cf) as ranges: zero-width characters,
/// bidirectional embeddings, overrides and isolates, the byte-order mark, invisible
/// operators, tag characters. Listed in spec/12 §12.4 exactly as here.
const FORMAT_CHARACTERS: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Default-ignorable code points that are not format characters (Unicode
/// `Default_Ignorable_Code_Point` less Cf): fillers, variation selectors and the like,
/// which render as nothing; and U+2800 BRAILLE PATTERN BLANK, which renders as a blank.
/// Listed in spec/12 §12.4 exactly as here.
const INVISIBLE_CHARACTERS: &[(u32, u32)] = &[
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0000),
    (0xE0002, 0xE001F),
    (0xE0080, 0xE0FFF),
];

/// Whether a character may hide or disguise what a text shows: a control (Cc), a line
/// or paragraph separator, a format character (Cf) or another invisible one (the lists
/// above, spec/12 §12.4). Context names refuse them, and so do the texts of an election
/// manifest (spec/21), since both are shown to people.
pub fn hides_text(c: char) -> bool {
    let code = u32::from(c);
    let within = |ranges: &[(u32, u32)]| {
        ranges
            .iter()
            .any(|(low, high)| (*low..=*high).contains(&code))
    };
    c.is_control() // Cc: C0, DEL, C1
        || code == 0x2028 // line separator
        || code == 0x2029 // paragraph separator
        || within(FORMAT_CHARACTERS)
        || within(INVISIBLE_CHARACTERS)
}

/// Checks a context name: 1 to 200 bytes of UTF-8, not only white space, and no
/// control (Cc), format (Cf) or line/paragraph separator character. Other white space
/// (a space, U+00A0) is allowed inside a name.
pub fn check_context_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() || name.len() > MAX_CONTEXT_NAME {
        return Err(NameError::Length(name.len()));
    }
    if let Some(c) = name.chars().find(|c| hides_text(*c)) {
        return Err(NameError::Forbidden(u32::from(c)));
    }
    if name.chars().all(char::is_whitespace) {
        return Err(NameError::Blank);
    }
    Ok(())
}

/// The body of `context.open` (spec/12 §12.4):
///
/// ```text
/// 0x02 ‖ context type (u16 BE) ‖ nonce (16 bytes) ‖ name length (u16 BE) ‖ name (UTF-8)
///      ‖ parameters hash (32 bytes)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextOpen {
    /// Which state machine the context follows.
    pub context_type: ContextType,
    /// Chosen at random by the authority, so two identical openings differ.
    pub nonce: [u8; CONTEXT_NONCE_BYTES],
    /// Human-readable name (§12.4 rules).
    pub name: String,
    /// Hash of the context's parameters (its manifest), fixed at opening.
    pub parameters: [u8; 32],
}

impl ContextOpen {
    /// Encodes the body. Fails only on a name the rules refuse.
    pub fn to_body(&self) -> Result<Vec<u8>, RecordError> {
        check_context_name(&self.name)?;
        let mut out = Vec::with_capacity(1 + 2 + CONTEXT_NONCE_BYTES + 2 + self.name.len() + 32);
        out.push(CONTEXT_OPEN_VERSION);
        out.extend_from_slice(&self.context_type.0.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        // The name's length was checked to be at most 200 above.
        out.extend_from_slice(&(self.name.len() as u16).to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.parameters);
        Ok(out)
    }

    /// Decodes strictly: version, exact length, name rules.
    pub fn parse(body: &[u8]) -> Result<Self, RecordError> {
        const NAME_AT: usize = 1 + 2 + CONTEXT_NONCE_BYTES + 2;
        match body.first() {
            Some(&CONTEXT_OPEN_VERSION) => {}
            Some(v) => {
                return Err(RecordError::body(
                    "body.version",
                    format!("context.open body version {v} is not supported (expected 2)"),
                ));
            }
            None => return Err(RecordError::body("body", "context.open body is empty")),
        }
        if body.len() < NAME_AT + 32 {
            return Err(RecordError::body(
                "body",
                format!("context.open body of {} bytes is too short", body.len()),
            ));
        }
        let context_type = ContextType(u16::from_be_bytes([body[1], body[2]]));
        let mut nonce = [0u8; CONTEXT_NONCE_BYTES];
        nonce.copy_from_slice(&body[3..3 + CONTEXT_NONCE_BYTES]);
        let name_len = usize::from(u16::from_be_bytes([body[NAME_AT - 2], body[NAME_AT - 1]]));
        if body.len() != NAME_AT + name_len + 32 {
            return Err(RecordError::body(
                "body.name_length",
                format!(
                    "name length {name_len} does not match the body's {} bytes",
                    body.len()
                ),
            ));
        }
        let name = core::str::from_utf8(&body[NAME_AT..NAME_AT + name_len])
            .map_err(|_| NameError::NotUtf8)?;
        check_context_name(name)?;
        let mut parameters = [0u8; 32];
        parameters.copy_from_slice(&body[NAME_AT + name_len..]);
        Ok(Self {
            context_type,
            nonce,
            name: name.to_owned(),
            parameters,
        })
    }
}

/// The body of `context.phase` (spec/12 §12.3): one byte, the code of the phase the
/// context moves to. Which moves are allowed is the context type's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextPhase {
    /// The phase code moved to.
    pub to: u8,
}

impl ContextPhase {
    /// Encodes the body.
    pub fn to_body(self) -> Vec<u8> {
        vec![self.to]
    }

    /// Decodes strictly: exactly one byte.
    pub fn parse(body: &[u8]) -> Result<Self, RecordError> {
        match body {
            [to] => Ok(Self { to: *to }),
            _ => Err(RecordError::body(
                "body",
                format!(
                    "context.phase body is one byte (the next phase), not {}",
                    body.len()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn open(name: &str) -> ContextOpen {
        ContextOpen {
            context_type: ContextType::ELECTION,
            nonce: [5; 16],
            name: name.to_owned(),
            parameters: [6; 32],
        }
    }

    #[test]
    fn context_open_round_trips() {
        let o = open("Municipales 2027 – Lyon");
        assert_eq!(ContextOpen::parse(&o.to_body().unwrap()).unwrap(), o);
    }

    #[test]
    fn names_with_inner_spaces_and_nbsp_are_allowed() {
        for name in ["a b", "Vote\u{a0}2027", "é", "x"] {
            check_context_name(name).unwrap();
        }
        check_context_name(&"a".repeat(200)).unwrap();
    }

    #[test]
    fn blank_empty_long_and_invisible_names_are_refused() {
        assert_eq!(check_context_name(""), Err(NameError::Length(0)));
        assert_eq!(
            check_context_name(&"a".repeat(201)),
            Err(NameError::Length(201))
        );
        assert_eq!(check_context_name(" "), Err(NameError::Blank));
        assert_eq!(check_context_name("\u{a0}"), Err(NameError::Blank));
        for c in [
            '\u{0}',
            '\n',
            '\u{7f}',
            '\u{85}',
            '\u{9f}',
            '\u{ad}',
            '\u{200b}',
            '\u{200d}',
            '\u{200e}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            '\u{e0041}',
            '\u{3164}',
            '\u{115f}',
            '\u{ffa0}',
            '\u{2800}',
            '\u{34f}',
            '\u{fe0f}',
            '\u{e0100}',
            '\u{180b}',
        ] {
            let name = format!("vote{c}2027");
            assert_eq!(
                check_context_name(&name),
                Err(NameError::Forbidden(u32::from(c))),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn malformed_open_bodies_name_their_field() {
        let body = open("x").to_body().unwrap();
        let mut v1 = body.clone();
        v1[0] = 1;
        assert_eq!(ContextOpen::parse(&v1).unwrap_err().field(), "body.version");
        let mut long = body.clone();
        long.push(0);
        assert_eq!(
            ContextOpen::parse(&long).unwrap_err().field(),
            "body.name_length"
        );
        assert_eq!(ContextOpen::parse(&body[..20]).unwrap_err().field(), "body");
        let mut bad_utf8 = body.clone();
        bad_utf8[21] = 0xff;
        assert_eq!(
            ContextOpen::parse(&bad_utf8).unwrap_err().field(),
            "body.name"
        );
        let mut rtl = open("ab").to_body().unwrap();
        rtl.splice(21..23, "\u{202e}".bytes());
        rtl[20] = 3;
        assert_eq!(
            ContextOpen::parse(&rtl).unwrap_err(),
            RecordError::Name(NameError::Forbidden(0x202e))
        );
    }

    #[test]
    fn the_id_binds_the_authority_and_the_nonce() {
        let body = open("x").to_body().unwrap();
        let a = ContextId::derive(&[1; 32], &body);
        assert_ne!(a, ContextId::derive(&[2; 32], &body));
        let mut other = open("x");
        other.nonce[0] ^= 1;
        assert_ne!(a, ContextId::derive(&[1; 32], &other.to_body().unwrap()));
        assert_eq!(ContextId::from_hex(&a.to_hex()), Some(a));
        assert_eq!(ContextId::from_hex(&a.to_hex().to_uppercase()), None);
    }

    #[test]
    fn phase_bodies_are_one_byte() {
        assert_eq!(ContextPhase::parse(&[3]).unwrap().to, 3);
        assert!(ContextPhase::parse(&[]).is_err());
        assert!(ContextPhase::parse(&[3, 4]).is_err());
    }
}
