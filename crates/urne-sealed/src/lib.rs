//! A secret at rest under a passphrase: the file format the wallet (spec/30 §30.3) and
//! the trustee's state file (spec/20 §20.8) share.
//!
//! ```text
//! magic ‖ version (1) ‖ memory KiB (u32) ‖ passes (u32) ‖ lanes (u32) ‖ salt (16) ‖ nonce (12)
//!   ‖ ChaCha20-Poly1305(key = Argon2id(passphrase, salt), nonce, plaintext, AD = all of the above)
//! ```
//!
//! What it is for: one implementation of the key derivation and the AEAD, so a fix to one
//! (a bound, a wiped buffer) is a fix to both. The header is the associated data, so
//! altering the parameters is detected like a wrong passphrase; the parameters are read
//! before the tag can be checked, so whoever can alter the file chooses the work, and they
//! are bounded before any of it is done.
//!
//! What it must never do: keep the derived key or a decrypted plaintext in memory it
//! does not wipe, or interpret the plaintext (its caller's format).

#![forbid(unsafe_code)]

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// Bytes of the salt.
pub const SALT_LEN: usize = 16;
/// Bytes of the nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes of the AEAD tag after the ciphertext.
pub const TAG_LEN: usize = 16;
/// The most Argon2id passes a file may ask for.
pub const MAX_ITERATIONS: u32 = 64;
/// The most Argon2id lanes a file may ask for.
pub const MAX_PARALLELISM: u32 = 64;

/// Bytes of the header after a magic of `magic_len` bytes.
pub const fn header_len(magic_len: usize) -> usize {
    magic_len + 1 + 12 + SALT_LEN + NONCE_LEN
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// RFC 9106 §4's second recommended option: 64 MiB, 3 passes, 4 lanes.
    pub const RECOMMENDED: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 4,
    };
}

/// One kind of sealed file: its magic, its version, and the most memory its files may ask
/// Argon2id for (the passes and lanes are bounded alike for every kind).
#[derive(Clone, Copy, Debug)]
pub struct Format {
    /// The file's first bytes.
    pub magic: &'static [u8],
    /// The version byte after them.
    pub version: u8,
    /// The largest Argon2id memory, in KiB, a file of this kind may ask for.
    pub max_memory_kib: u32,
}

/// Why a sealed file could not be written or opened.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The passphrase is wrong, or the file was altered (the two are indistinguishable).
    #[error("wrong passphrase, or the file was altered")]
    WrongPassphrase,
    /// Not a file of this format (too short, another magic or version).
    #[error("not a file of this format (field `{field}`)")]
    NotThisFormat {
        /// The field that gave it away: `length`, `magic`, `version`.
        field: &'static str,
    },
    /// Argon2id parameters out of bounds.
    #[error("Argon2id parameter `{field}` = {value} is out of bounds")]
    BadParameters {
        /// Which parameter (`memory_kib`, `iterations`, `parallelism`, `passphrase`).
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// The AEAD refused to encrypt (a plaintext beyond its limit).
    #[error("encryption failed")]
    Encryption,
}

fn argon2_params(format: &Format, params: KdfParams) -> Result<Params, SealError> {
    let bad = |field, value| SealError::BadParameters { field, value };
    if params.parallelism == 0 || params.parallelism > MAX_PARALLELISM {
        return Err(bad("parallelism", params.parallelism));
    }
    if params.iterations == 0 || params.iterations > MAX_ITERATIONS {
        return Err(bad("iterations", params.iterations));
    }
    if params.memory_kib < 8 * params.parallelism || params.memory_kib > format.max_memory_kib {
        return Err(bad("memory_kib", params.memory_kib));
    }
    Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|_| bad("memory_kib", params.memory_kib))
}

fn cipher(
    format: &Format,
    passphrase: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<ChaCha20Poly1305, SealError> {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        argon2_params(format, params)?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|_| SealError::BadParameters {
            field: "passphrase",
            value: passphrase.len().min(u32::MAX as usize) as u32,
        })?;
    // Borrowed, not copied into a `Key`: a copy would outlive the wiped buffer.
    ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|_| SealError::Encryption)
}

/// The file's bytes: the header, then `plaintext` sealed under a key Argon2id derives
/// from `passphrase` and a fresh salt, the header as associated data.
pub fn seal<R: CryptoRng + ?Sized>(
    format: &Format,
    plaintext: &[u8],
    passphrase: &[u8],
    params: KdfParams,
    rng: &mut R,
) -> Result<Vec<u8>, SealError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(header_len(format.magic.len()) + plaintext.len() + TAG_LEN);
    out.extend_from_slice(format.magic);
    out.push(format.version);
    out.extend_from_slice(&params.memory_kib.to_be_bytes());
    out.extend_from_slice(&params.iterations.to_be_bytes());
    out.extend_from_slice(&params.parallelism.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let sealed = cipher(format, passphrase, &salt, params)?
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &out,
            },
        )
        .map_err(|_| SealError::Encryption)?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a file's bytes: magic, version and Argon2id parameters checked (and bounded)
/// before any work, then decrypted. The plaintext is wiped when dropped.
pub fn open(
    format: &Format,
    bytes: &[u8],
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let not = |field| SealError::NotThisFormat { field };
    let header = header_len(format.magic.len());
    if bytes.len() < header + TAG_LEN {
        return Err(not("length"));
    }
    let (magic, rest) = bytes.split_at(format.magic.len());
    if magic != format.magic {
        return Err(not("magic"));
    }
    if rest[0] != format.version {
        return Err(not("version"));
    }
    let word = |at: usize| u32::from_be_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
    let params = KdfParams {
        memory_kib: word(1),
        iterations: word(5),
        parallelism: word(9),
    };
    let salt = &rest[13..13 + SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&rest[13 + SALT_LEN..13 + SALT_LEN + NONCE_LEN]);
    let (aad, sealed) = bytes.split_at(header);
    cipher(format, passphrase, salt, params)?
        .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad })
        .map(Zeroizing::new)
        .map_err(|_| SealError::WrongPassphrase)
}

#[cfg(test)]
mod tests;
