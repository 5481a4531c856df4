//! Key files (spec/15 §1): one Ed25519 seed per file, tagged with the one role it serves,
//! written durably with mode 0600 and never overwritten.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use crate::output::stderr_line;

/// What a key is for. One key per role: a key that signs checkpoints as the board never
/// also cosigns them as a witness or opens contexts as an authority, so the loss of one
/// machine's key gives away one role only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Signs the board's checkpoints (lives on the board machine).
    Board,
    /// Opens contexts and moves their phases (belongs off the board machine).
    Authority,
    /// Cosigns a board's checkpoints (lives on the witness's machine).
    Witness,
    /// An election trustee's identity: signs its ceremony records and decryption shares
    /// (lives on the trustee's own machine).
    Trustee,
    /// A chamber member's own key: signs their presence, delegations and votes (spec/40;
    /// lives on the member's device, never on the board).
    Member,
}

impl Role {
    /// The role's name in a key file's first line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Board => "board",
            Self::Authority => "authority",
            Self::Witness => "witness",
            Self::Trustee => "trustee",
            Self::Member => "member",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::Board,
            Self::Authority,
            Self::Witness,
            Self::Trustee,
            Self::Member,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

/// The first line's prefix: the format and its version.
const MAGIC: &str = "urne-key v1 ";

/// Warns when a key file can be read by anyone but its owner.
fn warn_if_loose(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            stderr_line!(
                "urne: warning: key file {} has mode {mode:03o}: group or others can read or change it; run chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

/// Reads the seed of a key file of role `role`.
pub fn read_seed(path: &Path, role: Role) -> Result<Zeroizing<[u8; 32]>, String> {
    let where_ = path.display();
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| format!("{where_}: {e}"))?);
    warn_if_loose(path);
    let mut lines = text.split_inclusive('\n');
    let (Some(first), Some(second), None) = (lines.next(), lines.next(), lines.next()) else {
        if text.trim().len() == 64 {
            return Err(format!(
                "{where_}: a key file of the earlier format (a bare seed): add a first line `{MAGIC}{}`",
                role.name()
            ));
        }
        return Err(format!(
            "{where_}: not a key file (two lines: `{MAGIC}<role>` and 64 lowercase hex digits)"
        ));
    };
    let found = first
        .strip_prefix(MAGIC)
        .and_then(|r| r.strip_suffix('\n'))
        .ok_or_else(|| format!("{where_}: line 1: expected `{MAGIC}<role>`"))?;
    let found = Role::from_name(found).ok_or_else(|| {
        format!(
            "{where_}: line 1: unknown role {found:?} (board, authority, witness, trustee, member)"
        )
    })?;
    if found != role {
        return Err(format!(
            "{where_}: a key of role {}, but this needs a key of role {} (one key per role: make one with `urne keygen --role {}`)",
            found.name(),
            role.name(),
            role.name()
        ));
    }
    let digits = second
        .strip_suffix('\n')
        .ok_or_else(|| format!("{where_}: line 2: no final newline"))?;
    let seed = urne_client::decode_hex32(digits)
        .map(Zeroizing::new)
        .ok_or_else(|| format!("{where_}: line 2: expected 64 lowercase hex digits"))?;
    Ok(seed)
}

/// Creates a key file of role `role` with a fresh seed (never overwrites an existing file).
pub fn create_seed(path: &Path, role: Role) -> Result<Zeroizing<[u8; 32]>, String> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::fill(seed.as_mut_slice());
    let text = Zeroizing::new(format!(
        "{MAGIC}{}\n{}\n",
        role.name(),
        Zeroizing::new(hex::encode(seed.as_slice())).as_str()
    ));
    urne_fsutil::write_new(path, text.as_bytes(), 0o600)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(seed)
}

/// Reads the key file of role `role` at `path`, creating it first if it does not exist.
pub fn read_or_create(path: &Path, role: Role) -> Result<(Zeroizing<[u8; 32]>, bool), String> {
    if path.exists() {
        Ok((read_seed(path, role)?, false))
    } else {
        Ok((create_seed(path, role)?, true))
    }
}

/// The signing key of a seed.
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// Parses 64 lowercase hex digits into 32 bytes; `what` names the argument.
pub fn parse_hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    urne_client::decode_hex32(text)
        .ok_or_else(|| format!("{what}: expected 64 lowercase hex digits"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("urne-keys-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_key_reads_back_in_its_role_only() {
        let d = dir("roles");
        let path = d.join("w.key");
        let seed = create_seed(&path, Role::Witness).unwrap();
        assert_eq!(*read_seed(&path, Role::Witness).unwrap(), *seed);
        let err = read_seed(&path, Role::Authority).unwrap_err();
        assert!(
            err.contains("role witness, but this needs a key of role authority"),
            "{err}"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            create_seed(&path, Role::Witness).is_err(),
            "overwrote a key"
        );
    }

    #[test]
    fn malformed_key_files_are_refused_naming_the_line() {
        let d = dir("malformed");
        let seed = "ab".repeat(32);
        let cases = [
            (format!("{seed}\n"), "earlier format"),
            (format!("urne-key v2 board\n{seed}\n"), "line 1"),
            (format!("urne-key v1 voter\n{seed}\n"), "unknown role"),
            // A trustee key is a key of another role, never a board's.
            (
                format!("urne-key v1 trustee\n{seed}\n"),
                "a key of role trustee",
            ),
            (
                format!("urne-key v1 board\n{}\n", "AB".repeat(32)),
                "line 2",
            ),
            (
                format!("urne-key v1 board\n{}\n", "ab".repeat(31)),
                "line 2",
            ),
            (format!("urne-key v1 board\n{seed}"), "no final newline"),
            (format!("urne-key v1 board\n{seed}\n\n"), "not a key file"),
            (format!("urne-key v1 board\r\n{seed}\n"), "line 1"),
        ];
        for (i, (text, expected)) in cases.iter().enumerate() {
            let path = d.join(format!("k{i}"));
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            let err = read_seed(&path, Role::Board).unwrap_err();
            assert!(err.contains(expected), "case {i}: {err}");
        }
        let path = d.join("good");
        std::fs::write(&path, format!("urne-key v1 board\n{seed}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(*read_seed(&path, Role::Board).unwrap(), [0xab; 32]);
    }
}
