//! The election a ballot belongs to: manifest, joint key, and the context hash that every
//! proof binds (spec/21-ballots.md §21.3).

use core::fmt;

use sha2::{Digest, Sha256};
use urne_crypto::{ContextHash, EncryptionKey, PublicKey};

use crate::labels::ELECTION_CONTEXT;
use crate::manifest::Manifest;

/// The public key of a voter's credential, exactly as the credential list holds it: the
/// 32-byte encoding of urne-credential's `PublicCredential` (spec/22-credentials.md). Every proof of a ballot binds it, so a ballot copied under another credential
/// fails (Cortier–Smyth).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialKey(pub [u8; 32]);

impl fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CredentialKey({})",
            urne_crypto::encoding::to_hex(&self.0)
        )
    }
}

/// What the context hash is computed from.
#[derive(Clone, Copy, Debug)]
pub struct ContextInputs<'a> {
    /// The manifest (its canonical bytes are hashed).
    pub manifest: &'a Manifest,
    /// The trustees' joint key K.
    pub joint_key: &'a PublicKey,
    /// The Merkle root of the published credential list.
    pub credential_root: &'a [u8; 32],
    /// The board's origin (the first line of its checkpoints), at most 65,535 bytes.
    pub board_origin: &'a str,
    /// The election's context id on the board.
    pub context_id: &'a [u8; 32],
}

impl ContextInputs<'_> {
    /// SHA-256(label ‖ u32 len ‖ manifest ‖ K ‖ credential root ‖ u16 len ‖ origin ‖
    /// context id). Variable-length inputs carry their length so no two input lists hash
    /// the same bytes. `None` if the origin is longer than a u16 length can say.
    pub fn hash(&self) -> Option<ContextHash> {
        let manifest = self.manifest.to_bytes();
        let manifest_len = u32::try_from(manifest.len()).ok()?;
        let origin_len = u16::try_from(self.board_origin.len()).ok()?;
        let mut h = Sha256::new();
        h.update(ELECTION_CONTEXT);
        h.update(manifest_len.to_be_bytes());
        h.update(&manifest);
        h.update(self.joint_key.to_bytes());
        h.update(self.credential_root);
        h.update(origin_len.to_be_bytes());
        h.update(self.board_origin.as_bytes());
        h.update(self.context_id);
        Some(ContextHash(h.finalize().into()))
    }
}

/// An election as ballots see it: built once, then used to encrypt, verify and audit
/// any number of ballots.
pub struct Election {
    manifest: Manifest,
    context: ContextHash,
    key: EncryptionKey,
}

impl fmt::Debug for Election {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Election")
            .field("context", &self.context)
            .field("key", self.key.public_key())
            .finish_non_exhaustive()
    }
}

/// The board origin does not fit its u16 length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the board origin is longer than 65,535 bytes")]
pub struct OriginTooLong;

impl Election {
    /// The election of these inputs; computes the context hash and the key's table.
    pub fn new(inputs: ContextInputs<'_>) -> Result<Self, OriginTooLong> {
        let context = inputs.hash().ok_or(OriginTooLong)?;
        Ok(Self {
            manifest: inputs.manifest.clone(),
            context,
            key: EncryptionKey::new(*inputs.joint_key),
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The context hash every proof of a ballot binds.
    pub fn context(&self) -> &ContextHash {
        &self.context
    }

    /// The joint key.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    pub(crate) fn encryption_key(&self) -> &EncryptionKey {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Contest, ContestKind};

    /// Golden bytes recomputed from spec/21-ballots.md §21.1 and §21.3 alone (by an
    /// independent script), so code and spec cannot drift apart.
    #[test]
    fn manifest_bytes_and_context_hash_match_the_spec() {
        let manifest = Manifest::new(
            "T",
            vec![
                Contest {
                    title: "Q".into(),
                    kind: ContestKind::SingleChoice,
                    blank: true,
                    options: vec!["a".into(), "b".into()],
                },
                Contest {
                    title: "R".into(),
                    kind: ContestKind::Approval { min: 0, max: 2 },
                    blank: false,
                    options: vec!["x".into(), "y".into(), "z".into()],
                },
            ],
        )
        .unwrap();
        assert_eq!(
            urne_crypto::encoding::to_hex(&manifest.to_bytes()),
            "01000154000200015101010002000161000162000152020000000200000300017800017900017a"
        );
        let key = PublicKey::from_point(urne_crypto::group::basepoint()).unwrap();
        let hash = ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[7; 32],
            board_origin: "board.example",
            context_id: &[9; 32],
        }
        .hash()
        .unwrap();
        assert_eq!(
            urne_crypto::encoding::to_hex(&hash.0),
            "7e7969d2d6d1674507563c81603b255edd76c485f51c692821095ecee9ab5add"
        );
    }
}
