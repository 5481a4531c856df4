//! A trustee's key share at rest between ceremony and tally: encrypted under a
//! passphrase with Argon2id and ChaCha20-Poly1305 (spec/20-ceremony.md §20.8).
//!
//! The file header carries the Argon2id parameters and is the AEAD's associated data,
//! so altering them is detected like a wrong passphrase. Parameters read from a file are
//! bounded before use, so a crafted file cannot make us allocate terabytes.

use std::fs;
use std::path::Path;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use urne_crypto::rand_core::CryptoRng;
use urne_crypto::{ContextHash, Point, PublicKey, SecretScalar};
use zeroize::Zeroizing;

use crate::labels::STATE_FILE_MAGIC;
use crate::trustee::TrusteeKey;

/// The state file's sealing (spec/20 §20.8), shared with the wallet.
const FORMAT: urne_sealed::Format = urne_sealed::Format {
    magic: STATE_FILE_MAGIC,
    version: 1,
    max_memory_kib: MAX_MEMORY_KIB,
};
const HEADER_LEN: usize = urne_sealed::header_len(STATE_FILE_MAGIC.len());
const PLAINTEXT_LEN: usize = 32 + 2 + 32 + 32 + 32;
const TAG_LEN: usize = urne_sealed::TAG_LEN;
/// Length of a state file.
pub const FILE_LEN: usize = HEADER_LEN + PLAINTEXT_LEN + TAG_LEN;

/// The largest Argon2id memory a file may ask for: 4 GiB.
pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
pub use urne_sealed::{KdfParams, MAX_ITERATIONS, MAX_PARALLELISM};

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

impl From<urne_sealed::SealError> for StateFileError {
    fn from(e: urne_sealed::SealError) -> Self {
        use urne_sealed::SealError as E;
        match e {
            E::WrongPassphrase => Self::WrongPassphrase,
            E::NotThisFormat { field } => Self::NotAStateFile { field },
            E::BadParameters { field, value } => Self::BadParameters { field, value },
            _ => Self::Inconsistent {
                detail: "encryption failed",
            },
        }
    }
}

/// The file's bytes: header (magic ‖ version ‖ memory ‖ iterations ‖ parallelism ‖ salt
/// ‖ nonce) then the sealed (ceremony ‖ trustee ‖ s_j ‖ S_j ‖ K).
pub fn seal<R: CryptoRng + ?Sized>(
    key: &TrusteeKey,
    passphrase: &[u8],
    params: KdfParams,
    rng: &mut R,
) -> Result<Vec<u8>, StateFileError> {
    let mut plaintext = Zeroizing::new(Vec::with_capacity(PLAINTEXT_LEN));
    plaintext.extend_from_slice(&key.ceremony.0);
    plaintext.extend_from_slice(&key.trustee.to_be_bytes());
    plaintext.extend_from_slice(key.share.to_bytes().as_ref());
    plaintext.extend_from_slice(key.verification_key.as_bytes());
    plaintext.extend_from_slice(&key.joint_key.to_bytes());
    Ok(urne_sealed::seal(
        &FORMAT, &plaintext, passphrase, params, rng,
    )?)
}

/// Decrypts a state file's bytes and checks what it holds.
pub fn open(bytes: &[u8], passphrase: &[u8]) -> Result<TrusteeKey, StateFileError> {
    if bytes.len() != FILE_LEN {
        return Err(StateFileError::NotAStateFile { field: "length" });
    }
    let plaintext = urne_sealed::open(&FORMAT, bytes, passphrase)?;
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
    /// Fails to compile without the `zeroize` features of sha2 and chacha20poly1305
    /// (Cargo.toml): the share encryption's AEAD would keep its key, and the hashers
    /// inside HKDF the ECDH secret, in freed memory. The state file's Argon2id is
    /// urne-sealed's, which checks its own.
    #[test]
    fn the_crates_that_hold_our_secrets_wipe_them() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<chacha20poly1305::ChaCha20Poly1305>();
        wiped_on_drop::<sha2::Sha512>();
        wiped_on_drop::<sha2::Sha256>();
    }
}
