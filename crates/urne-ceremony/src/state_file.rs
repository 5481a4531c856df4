//! A trustee's key share at rest between ceremony and tally: encrypted under a
//! passphrase with Argon2id and ChaCha20-Poly1305 (spec/20-ceremony.md §20.8).
//!
//! The file header carries the Argon2id parameters and is the AEAD's associated data,
//! so altering them is detected like a wrong passphrase. Parameters read from a file are
//! bounded before use, so a crafted file cannot make us allocate terabytes.

use std::fs;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use urne_crypto::rand_core::CryptoRng;
use urne_crypto::{ContextHash, Point, PublicKey, SecretScalar};
use zeroize::Zeroizing;

use crate::labels::STATE_FILE_MAGIC;
use crate::trustee::TrusteeKey;

const FILE_VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = STATE_FILE_MAGIC.len() + 1 + 12 + SALT_LEN + NONCE_LEN;
const PLAINTEXT_LEN: usize = 32 + 2 + 32 + 32 + 32;
const TAG_LEN: usize = 16;
/// Length of a state file.
pub const FILE_LEN: usize = HEADER_LEN + PLAINTEXT_LEN + TAG_LEN;

/// The largest Argon2id memory a file may ask for: 4 GiB.
pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// The most Argon2id passes a file may ask for.
pub const MAX_ITERATIONS: u32 = 64;
/// The most Argon2id lanes a file may ask for.
pub const MAX_PARALLELISM: u32 = 64;

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

/// Why a state file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateFileError {
    /// The passphrase is wrong, or the file was altered (the two are indistinguishable).
    #[error("wrong passphrase, or the trustee state file was altered")]
    WrongPassphrase,
    /// Not a trustee state file, or a version we do not know.
    #[error("not a urne trustee state file (field `{field}`)")]
    NotAStateFile {
        /// The field that gave it away.
        field: &'static str,
    },
    /// Argon2id parameters out of bounds.
    #[error("Argon2id parameter `{field}` = {value} is out of bounds")]
    BadParameters {
        /// Which parameter.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// The decrypted content is inconsistent (s_j·G ≠ S_j, or a bad encoding).
    #[error("the trustee state is inconsistent: {detail}")]
    Inconsistent {
        /// What.
        detail: &'static str,
    },
    /// Reading or writing the file.
    #[error("trustee state file: {0}")]
    Io(#[from] std::io::Error),
}

fn check_params(params: KdfParams) -> Result<Params, StateFileError> {
    let bad = |field, value| StateFileError::BadParameters { field, value };
    if params.parallelism == 0 || params.parallelism > MAX_PARALLELISM {
        return Err(bad("parallelism", params.parallelism));
    }
    if params.iterations == 0 || params.iterations > MAX_ITERATIONS {
        return Err(bad("iterations", params.iterations));
    }
    if params.memory_kib < 8 * params.parallelism || params.memory_kib > MAX_MEMORY_KIB {
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
    passphrase: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<ChaCha20Poly1305, StateFileError> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, check_params(params)?);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|_| StateFileError::BadParameters {
            field: "passphrase",
            value: passphrase.len().min(u32::MAX as usize) as u32,
        })?;
    Ok(ChaCha20Poly1305::new(&Key::from(*key)))
}

/// The file's bytes: header (magic ‖ version ‖ memory ‖ iterations ‖ parallelism ‖ salt
/// ‖ nonce) then the sealed (ceremony ‖ trustee ‖ s_j ‖ S_j ‖ K).
pub fn seal<R: CryptoRng + ?Sized>(
    key: &TrusteeKey,
    passphrase: &[u8],
    params: KdfParams,
    rng: &mut R,
) -> Result<Vec<u8>, StateFileError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(FILE_LEN);
    out.extend_from_slice(STATE_FILE_MAGIC);
    out.push(FILE_VERSION);
    out.extend_from_slice(&params.memory_kib.to_be_bytes());
    out.extend_from_slice(&params.iterations.to_be_bytes());
    out.extend_from_slice(&params.parallelism.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let mut plaintext = Zeroizing::new(Vec::with_capacity(PLAINTEXT_LEN));
    plaintext.extend_from_slice(&key.ceremony.0);
    plaintext.extend_from_slice(&key.trustee.to_be_bytes());
    plaintext.extend_from_slice(key.share.to_bytes().as_ref());
    plaintext.extend_from_slice(key.verification_key.as_bytes());
    plaintext.extend_from_slice(&key.joint_key.to_bytes());
    let sealed = cipher(passphrase, &salt, params)?
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plaintext,
                aad: &out,
            },
        )
        .map_err(|_| StateFileError::Inconsistent {
            detail: "encryption failed",
        })?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a state file's bytes and checks what it holds.
pub fn open(bytes: &[u8], passphrase: &[u8]) -> Result<TrusteeKey, StateFileError> {
    let not = |field| StateFileError::NotAStateFile { field };
    if bytes.len() != FILE_LEN {
        return Err(not("length"));
    }
    let (magic, rest) = bytes.split_at(STATE_FILE_MAGIC.len());
    if magic != STATE_FILE_MAGIC {
        return Err(not("magic"));
    }
    if rest[0] != FILE_VERSION {
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
    let (header, sealed) = bytes.split_at(HEADER_LEN);
    let plaintext = Zeroizing::new(
        cipher(passphrase, salt, params)?
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: header,
                },
            )
            .map_err(|_| StateFileError::WrongPassphrase)?,
    );
    let inconsistent = |detail| StateFileError::Inconsistent { detail };
    if plaintext.len() != PLAINTEXT_LEN {
        return Err(inconsistent("length"));
    }
    let mut ceremony = [0u8; 32];
    ceremony.copy_from_slice(&plaintext[..32]);
    let trustee = u16::from_be_bytes([plaintext[32], plaintext[33]]);
    let share =
        SecretScalar::decode(&plaintext[34..66]).map_err(|_| inconsistent("share encoding"))?;
    let verification_key =
        Point::decode(&plaintext[66..98]).map_err(|_| inconsistent("verification key"))?;
    let joint_key =
        PublicKey::decode(&plaintext[98..130]).map_err(|_| inconsistent("joint key"))?;
    if RISTRETTO_BASEPOINT_TABLE * share.expose_secret() != *verification_key.as_ristretto() {
        return Err(inconsistent(
            "the share does not match its verification key",
        ));
    }
    Ok(TrusteeKey {
        ceremony: ContextHash(ceremony),
        trustee,
        share,
        verification_key,
        joint_key,
    })
}

/// Creates the state file through urne-fsutil's `write_new` (a temporary file beside it,
/// synced, linked to its name, the directory synced), so a crash leaves no file or the
/// whole one. An existing file is never overwritten: it may hold the share of another
/// ceremony, and a lost share cannot be dealt again (the error is `Io` with
/// `AlreadyExists`).
pub fn write<R: CryptoRng + ?Sized>(
    path: &Path,
    key: &TrusteeKey,
    passphrase: &[u8],
    params: KdfParams,
    rng: &mut R,
) -> Result<(), StateFileError> {
    let bytes = seal(key, passphrase, params, rng)?;
    // Encrypted or not, a key share is nobody else's business: mode 0600.
    urne_fsutil::write_new(path, &bytes, 0o600)?;
    Ok(())
}

/// Reads and decrypts a state file.
pub fn read(path: &Path, passphrase: &[u8]) -> Result<TrusteeKey, StateFileError> {
    // A state file has one length: anything else is refused before it is read into memory.
    if fs::metadata(path)?.len() != FILE_LEN as u64 {
        return Err(StateFileError::NotAStateFile { field: "length" });
    }
    open(&fs::read(path)?, passphrase)
}

#[cfg(test)]
mod tests {
    /// Fails to compile without the `zeroize` features of sha2, chacha20poly1305 and
    /// argon2 (Cargo.toml): the AEAD would keep the passphrase-derived key, the hashers
    /// inside HKDF the ECDH secret, and Argon2 its passphrase-derived blocks, in freed
    /// memory.
    #[test]
    fn the_crates_that_hold_our_secrets_wipe_them() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        fn wipeable<T: zeroize::Zeroize>() {}
        wiped_on_drop::<chacha20poly1305::ChaCha20Poly1305>();
        wiped_on_drop::<sha2::Sha512>();
        wiped_on_drop::<sha2::Sha256>();
        wipeable::<argon2::Block>();
    }

    /// spec/20 §20.8: each Argon2id bound is checked, at both ends, before anything is
    /// derived (the file test covers only an absurd memory size).
    #[test]
    fn every_parameter_bound_is_checked_before_any_work() {
        use super::*;
        let ok = KdfParams {
            memory_kib: 8 * 4,
            iterations: 1,
            parallelism: 4,
        };
        let refused = |p: KdfParams| match check_params(p) {
            Err(StateFileError::BadParameters { field, .. }) => field,
            other => panic!("{p:?} gave {other:?}"),
        };
        for (params, field) in [
            (
                KdfParams {
                    parallelism: 0,
                    ..ok
                },
                "parallelism",
            ),
            (
                KdfParams {
                    parallelism: 65,
                    memory_kib: 8 * 65,
                    ..ok
                },
                "parallelism",
            ),
            (
                KdfParams {
                    iterations: 0,
                    ..ok
                },
                "iterations",
            ),
            (
                KdfParams {
                    iterations: 65,
                    ..ok
                },
                "iterations",
            ),
            (
                KdfParams {
                    memory_kib: 8 * 4 - 1,
                    ..ok
                },
                "memory_kib",
            ),
            (
                KdfParams {
                    memory_kib: MAX_MEMORY_KIB + 1,
                    ..ok
                },
                "memory_kib",
            ),
        ] {
            assert_eq!(refused(params), field, "{params:?}");
        }
        for params in [
            ok,
            KdfParams {
                memory_kib: 8 * 64,
                iterations: 64,
                parallelism: 64,
            },
            KdfParams {
                memory_kib: MAX_MEMORY_KIB,
                ..ok
            },
            KdfParams::RECOMMENDED,
        ] {
            assert!(check_params(params).is_ok(), "{params:?}");
        }
    }
}
