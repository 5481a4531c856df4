//! Key files: 64 lowercase hex digits of an Ed25519 seed and a newline, mode 0600.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

/// Reads a seed.
pub fn read_seed(path: &Path) -> Result<Zeroizing<[u8; 32]>, String> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    let hex = text.trim();
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return Err(format!(
            "{}: not a key file (64 lowercase hex digits)",
            path.display()
        ));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(seed)
}

/// Writes a fresh seed to a new file (never overwrites).
pub fn create_seed(path: &Path) -> Result<Zeroizing<[u8; 32]>, String> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::fill(seed.as_mut_slice());
    let hex = Zeroizing::new(urne_log::hash::hex(seed.as_slice()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(format!("{}\n", hex.as_str()).as_bytes())
        .map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    Ok(seed)
}

/// Reads the seed at `path`, creating it first if it does not exist.
pub fn read_or_create(path: &Path) -> Result<(Zeroizing<[u8; 32]>, bool), String> {
    if path.exists() {
        Ok((read_seed(path)?, false))
    } else {
        Ok((create_seed(path)?, true))
    }
}

/// The signing key of a seed.
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

pub use urne_log::hash::hex;

/// Parses 64 hex digits into 32 bytes.
pub fn parse_hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    urne_log::Hash::from_hex(text)
        .map(|h| h.0)
        .ok_or_else(|| format!("{what}: expected 64 lowercase hex digits"))
}
