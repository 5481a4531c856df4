//! Secret credentials (spec/22 §22.2).

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256, Sha512};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use urne_crypto::{Point, SecretScalar};
use zeroize::Zeroizing;

use crate::error::CredentialError;
use crate::labels::{CREDENTIAL_CHECKSUM, CREDENTIAL_SECRET};

/// The alphabet: base58 (no 0, O, I, l, which people confuse).
const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Random characters: 22 × log2(58) ≈ 128.9 bits.
const RANDOM_CHARS: usize = 22;
/// Characters of a credential: the random ones and a two-character checksum.
pub const CREDENTIAL_CHARS: usize = RANDOM_CHARS + 2;

/// A voter's secret credential: 24 characters of base58, shown in groups of four
/// (`7kQm-...`). Not `Clone`, not printable by `Debug`; zeroized on drop.
pub struct Credential {
    chars: Zeroizing<[u8; CREDENTIAL_CHARS]>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<secret>)")
    }
}

/// The character at `index` (< 58) of the alphabet. Every entry is read, so which one
/// was wanted (a character of a secret credential) does not show in memory accesses.
fn alphabet_char(index: u8) -> u8 {
    let mut out = 0u8;
    for (i, c) in (0u8..).zip(ALPHABET.iter()) {
        out.conditional_assign(c, i.ct_eq(&index));
    }
    out
}

/// Whether `byte` is in the alphabet, in a time that does not depend on which
/// character it is (a slice search would stop earlier for `1` than for `z`).
fn in_alphabet(byte: u8) -> bool {
    let mut found = Choice::from(0);
    for c in ALPHABET {
        found |= c.ct_eq(&byte);
    }
    found.into()
}

fn checksum(random: &[u8]) -> Zeroizing<[u8; 2]> {
    // The hasher (zeroized on drop, sha2's `zeroize` feature) and its output both hold
    // what the checksum is made of: neither stays in memory.
    let mut digest = Zeroizing::new([0u8; 32]);
    Sha256::new()
        .chain_update(CREDENTIAL_CHECKSUM)
        .chain_update(random)
        .finalize_into((&mut *digest).into());
    let mut first = Zeroizing::new([0u8; 8]);
    first.copy_from_slice(&digest[..8]);
    let value = Zeroizing::new(u64::from_be_bytes(*first) % (58 * 58));
    // Both quotients are below 58.
    Zeroizing::new([
        alphabet_char((*value / 58) as u8),
        alphabet_char((*value % 58) as u8),
    ])
}

impl Credential {
    /// Draws a fresh credential.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut chars = Zeroizing::new([0u8; CREDENTIAL_CHARS]);
        let mut filled = 0;
        while filled < RANDOM_CHARS {
            let mut byte = [0u8; 1];
            rng.fill_bytes(&mut byte);
            // Rejection sampling: 232 = 4 × 58, so bytes below it map uniformly.
            if byte[0] < 232 {
                chars[filled] = alphabet_char(byte[0] % 58);
                filled += 1;
            }
        }
        let check = checksum(&chars[..RANDOM_CHARS]);
        chars[RANDOM_CHARS..].copy_from_slice(check.as_ref());
        Self { chars }
    }

    /// Reads a credential as a person typed it: dashes and white space are ignored;
    /// the alphabet and the checksum are checked.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let mut chars = Zeroizing::new([0u8; CREDENTIAL_CHARS]);
        let mut count = 0;
        for c in text.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
            let byte = u8::try_from(c).ok().filter(|b| in_alphabet(*b)).ok_or(
                CredentialError::Character {
                    position: count + 1,
                    found: c,
                },
            )?;
            if let Some(slot) = chars.get_mut(count) {
                *slot = byte;
            }
            count += 1;
        }
        if count != CREDENTIAL_CHARS {
            return Err(CredentialError::Length {
                expected: CREDENTIAL_CHARS,
                found: count,
            });
        }
        let matches = checksum(&chars[..RANDOM_CHARS])
            .as_ref()
            .ct_eq(&chars[RANDOM_CHARS..]);
        if !bool::from(matches) {
            return Err(CredentialError::Checksum);
        }
        Ok(Self { chars })
    }

    /// The credential as it is printed for the voter: six groups of four characters.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(CREDENTIAL_CHARS + 5));
        for (i, c) in self.chars.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(*c));
        }
        out
    }

    /// The secret scalar: SHA-512(label ‖ the 22 random characters) reduced mod ℓ. The
    /// characters carry 128 bits of entropy, so a fast hash is enough.
    pub fn secret(&self) -> SecretScalar {
        // Hashed straight into zeroized memory: a returned digest would be a copy left
        // on the stack, and the hasher wipes its own state on drop.
        let mut wide = Zeroizing::new([0u8; 64]);
        Sha512::new()
            .chain_update(CREDENTIAL_SECRET)
            .chain_update(&self.chars[..RANDOM_CHARS])
            .finalize_into((&mut *wide).into());
        SecretScalar::from_dalek(DalekScalar::from_bytes_mod_order_wide(&wide))
    }

    /// The public credential: secret·G.
    pub fn public(&self) -> PublicCredential {
        let secret = self.secret();
        PublicCredential(Point::from_ristretto(
            RISTRETTO_BASEPOINT_TABLE * secret.expose_secret(),
        ))
    }
}

/// A public credential: the point secret·G, as published in the credential list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicCredential(pub Point);

impl PublicCredential {
    /// Decodes 32 bytes: a canonical encoding, not the identity.
    pub fn decode(bytes: &[u8]) -> Result<Self, CredentialError> {
        Point::decode_non_identity(bytes)
            .map(Self)
            .map_err(|e| CredentialError::decode("credential", e.to_string()))
    }

    /// Its 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_printed_credential_reads_back_to_the_same_key() {
        let c = Credential::generate(&mut rand::rng());
        let text = c.to_text();
        assert_eq!(text.len(), 29);
        assert_eq!(text.matches('-').count(), 5);
        let back = Credential::parse(&text).unwrap();
        assert_eq!(back.public(), c.public());
        // Typed without dashes, with spaces: the same.
        let spaced = text.replace('-', " ");
        assert_eq!(Credential::parse(&spaced).unwrap().public(), c.public());
        assert_eq!(format!("{c:?}"), "Credential(<secret>)");
    }

    #[test]
    fn typing_mistakes_are_caught() {
        // The checksum is two base58 digits of a hash: a single substitution slips past
        // it with probability 1/3,364. Over fixed credentials (deterministic, so the count
        // is reproducible) every single-character substitution is tried: the misses must
        // stay near that rate (expected about 8 of 27,360).
        let mut missed = 0;
        let mut tried = 0;
        for k in 0..20usize {
            let mut chars: Vec<u8> = (0..RANDOM_CHARS)
                .map(|i| ALPHABET[(k * 31 + i * 17 + k * i * 7) % 58])
                .collect();
            let check = checksum(&chars);
            chars.extend_from_slice(check.as_ref());
            for i in 0..CREDENTIAL_CHARS {
                for a in ALPHABET.iter() {
                    if chars[i] == *a {
                        continue;
                    }
                    let mut typed = chars.clone();
                    typed[i] = *a;
                    tried += 1;
                    if Credential::parse(core::str::from_utf8(&typed).unwrap()).is_ok() {
                        missed += 1;
                    }
                }
            }
        }
        assert_eq!(tried, 20 * 24 * 57);
        assert!(
            missed <= 24,
            "{missed} of {tried} substitutions went unnoticed"
        );
        let c = Credential::generate(&mut rand::rng());
        let text = c.to_text().replace('-', "");
        assert_eq!(
            Credential::parse(&text[1..]).unwrap_err(),
            CredentialError::Length {
                expected: 24,
                found: 23
            }
        );
        let with_o = format!("O{}", &text[1..]);
        assert_eq!(
            Credential::parse(&with_o).unwrap_err(),
            CredentialError::Character {
                position: 1,
                found: 'O'
            }
        );
    }

    #[test]
    fn hashers_that_see_a_credential_wipe_their_state_on_drop() {
        // Fails to compile without sha2's `zeroize` feature: the SHA-256 of the checksum
        // and the SHA-512 of the secret scalar would leave the credential's characters in
        // their block buffers.
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<Sha256>();
        wiped_on_drop::<Sha512>();
    }

    /// spec/22 §22.2: bytes ≥ 232 are rejected and the rest taken mod 58, so every
    /// character is uniform. Pinned with a source of chosen bytes (from cargo mutants: a
    /// wrong bound or `/` for `%` went unnoticed, one of which leaves 23 characters of 58).
    #[test]
    fn generation_rejects_bytes_from_232_and_reduces_the_rest_mod_58() {
        struct Bytes(Vec<u8>);
        impl rand_core::TryRng for Bytes {
            type Error = core::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(0)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Ok(0)
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                for b in dst {
                    *b = self.0.remove(0);
                }
                Ok(())
            }
        }
        impl rand_core::TryCryptoRng for Bytes {}
        let mut bytes = vec![232, 255, 0, 57, 58, 231, 233, 116];
        bytes.extend(1..=17u8);
        let credential = Credential::generate(&mut Bytes(bytes));
        // 232, 255 and 233 rejected; 58 and 116 are 0 mod 58, 231 is 57.
        let expected: Vec<u8> = [0usize, 57, 0, 57, 0]
            .into_iter()
            .chain(1..=17)
            .map(|i| ALPHABET[i])
            .collect();
        assert_eq!(expected.len(), RANDOM_CHARS);
        assert_eq!(&credential.chars[..RANDOM_CHARS], &expected[..]);
    }

    #[test]
    fn constant_time_alphabet_agrees_with_the_alphabet() {
        for (i, c) in (0u8..).zip(ALPHABET.iter()) {
            assert_eq!(alphabet_char(i), *c);
        }
        for byte in 0..=255u8 {
            assert_eq!(in_alphabet(byte), ALPHABET.contains(&byte), "byte {byte}");
        }
    }

    #[test]
    fn the_secret_depends_on_every_random_character() {
        let c = Credential::generate(&mut rand::rng());
        let text = c.to_text().replace('-', "");
        for i in 0..RANDOM_CHARS {
            let mut chars: Vec<u8> = text.bytes().collect();
            chars[i] = if chars[i] == b'2' { b'3' } else { b'2' };
            let check = checksum(&chars[..RANDOM_CHARS]);
            chars[RANDOM_CHARS..].copy_from_slice(check.as_ref());
            let other = Credential::parse(core::str::from_utf8(&chars).unwrap()).unwrap();
            assert_ne!(other.public(), c.public(), "character {i}");
        }
    }
}
