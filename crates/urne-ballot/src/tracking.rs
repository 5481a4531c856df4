//! Tracking codes (spec/21-ballots.md §21.7): SHA-256 of a frozen label and the ballot's
//! canonical bytes, shown to voters as 24 Crockford base32 symbols in six groups.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::ballot::Ballot;
use crate::labels::TRACKING_CODE;

/// Crockford's base32: no I, L, O or U, so nothing reads as another symbol.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The short form covers the first 15 bytes (120 bits, 24 symbols).
pub const SHORT_BYTES: usize = 15;
const SHORT_SYMBOLS: usize = SHORT_BYTES * 8 / 5;

/// A ballot's tracking code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackingCode(pub [u8; 32]);

impl fmt::Debug for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingCode({})", self.short())
    }
}

/// Why a typed short code was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShortCodeError {
    /// A character that is no base32 symbol, hyphen or space.
    #[error("character {position} ({found:?}) is not a tracking-code symbol")]
    BadSymbol {
        /// Position among the characters typed.
        position: usize,
        /// The character.
        found: char,
    },
    /// Not 24 symbols.
    #[error("a tracking code has 24 symbols, {found} were given")]
    WrongLength {
        /// How many symbols were given.
        found: usize,
    },
}

impl TrackingCode {
    /// The code of a ballot's canonical bytes as received (the board hashes the bytes it
    /// stores, never a re-encoding).
    pub fn of_bytes(ballot_bytes: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(TRACKING_CODE);
        h.update(ballot_bytes);
        Self(h.finalize().into())
    }

    /// The code of a ballot.
    pub fn of(ballot: &Ballot) -> Self {
        Self::of_bytes(&ballot.to_bytes())
    }

    /// The short form: the first 15 bytes in Crockford base32 (most significant bit
    /// first), as six groups of four joined by `-`, e.g. `7KQ2-M9XD-0RTV-B3HN-W5CE-PZ18`.
    pub fn short(&self) -> String {
        let mut out = String::with_capacity(SHORT_SYMBOLS + 5);
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut symbols = 0;
        for byte in &self.0[..SHORT_BYTES] {
            acc = (acc << 8) | u32::from(*byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                if symbols > 0 && symbols % 4 == 0 {
                    out.push('-');
                }
                out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
                symbols += 1;
            }
            acc &= (1 << bits) - 1;
        }
        out
    }

    /// Reads a short form as a person may type it: any case, hyphens and spaces anywhere,
    /// I and L read as 1, O as 0 (Crockford's rules). Returns the 15 bytes it stands for.
    pub fn parse_short(text: &str) -> Result<[u8; SHORT_BYTES], ShortCodeError> {
        let mut values = Vec::with_capacity(SHORT_SYMBOLS);
        for (position, found) in text.chars().enumerate() {
            let symbol = match found.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'I' | 'L' => b'1',
                'O' => b'0',
                c if c.is_ascii() => c as u8,
                _ => return Err(ShortCodeError::BadSymbol { position, found }),
            };
            let value = ALPHABET
                .iter()
                .position(|a| *a == symbol)
                .ok_or(ShortCodeError::BadSymbol { position, found })?;
            values.push(value as u32);
        }
        if values.len() != SHORT_SYMBOLS {
            return Err(ShortCodeError::WrongLength {
                found: values.len(),
            });
        }
        let mut out = [0u8; SHORT_BYTES];
        let (mut acc, mut bits, mut at) = (0u32, 0, 0);
        for value in values {
            acc = (acc << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out[at] = (acc >> bits) as u8;
                at += 1;
                acc &= (1 << bits) - 1;
            }
        }
        Ok(out)
    }

    /// Whether a typed short form is this code's.
    pub fn matches_short(&self, text: &str) -> bool {
        Self::parse_short(text).is_ok_and(|prefix| prefix[..] == self.0[..SHORT_BYTES])
    }

    /// Lowercase hex of all 32 bytes (the board's lookup key).
    pub fn to_hex(&self) -> String {
        urne_crypto::encoding::to_hex(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_is_pinned_and_round_trips() {
        let code = TrackingCode::of_bytes(b"");
        // Pins the label, the hash and the alphabet (spec/21-ballots.md §21.7): the code
        // of the empty byte string is SHA-256("urne/v1/ballot/tracking-code").
        assert_eq!(
            code.to_hex(),
            "79ce7f6539b4dac9ed16704992b6b958a79764f7be86b9a77d814a985dfd3d44"
        );
        assert_eq!(code.short(), "F777-YS9S-PKDC-KV8P-E14S-5DNS");
        let mut bytes = [0u8; 32];
        bytes[..SHORT_BYTES].copy_from_slice(&[
            0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf, 0x84, 0x65, 0x3a, 0x56,
            0xd7,
        ]);
        // 0x00443214c74254b635cf84653a56d7 is 0123456789ABCDEFGHJKMNPQ in base32.
        assert_eq!(TrackingCode(bytes).short(), "0123-4567-89AB-CDEF-GHJK-MNPQ");
        for code in [code, TrackingCode([0xff; 32]), TrackingCode(bytes)] {
            let short = code.short();
            assert!(code.matches_short(&short));
            assert!(code.matches_short(&short.to_lowercase().replace('-', " ")));
        }
    }

    #[test]
    fn short_form_reading_follows_crockford_and_refuses_the_rest() {
        let code = TrackingCode([0; 32]);
        assert!(code.matches_short("oooo-OOOO-0000-0000-0000-0000"));
        let ones = TrackingCode::parse_short("1111 iiii LLLL llll 1111 1111").unwrap();
        assert_eq!(ones, TrackingCode::parse_short(&"1".repeat(24)).unwrap());
        assert_eq!(
            TrackingCode::parse_short("U000-0000-0000-0000-0000-0000"),
            Err(ShortCodeError::BadSymbol {
                position: 0,
                found: 'U'
            })
        );
        assert_eq!(
            TrackingCode::parse_short("0000-0000"),
            Err(ShortCodeError::WrongLength { found: 8 })
        );
        assert!(TrackingCode::parse_short("é000-0000-0000-0000-0000-0000").is_err());
        assert!(!code.matches_short("0000-0000-0000-0000-0000-0001"));
    }
}
