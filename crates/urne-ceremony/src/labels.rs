//! The ceremony's frozen labels (spec/20-ceremony.md §20.2).
//!
//! A label never changes meaning once released: a changed hash input or key derivation
//! gets a new label (`urne/v2/...`) and records made under the old one keep verifying.

/// Domain of the ceremony context hash.
pub const CONTEXT: &[u8] = b"urne/v1/ceremony/context";
/// Domain of a dealer's commitment hash H(Feldman commitments).
pub const COMMITMENT_HASH: &[u8] = b"urne/v1/ceremony/commitment-hash";
/// HKDF-SHA512 info prefix of a share-encryption key.
pub const SHARE_KEY: &[u8] = b"urne/v1/ceremony/share-key";
/// Associated-data prefix of an encrypted share.
pub const SHARE_AAD: &[u8] = b"urne/v1/ceremony/share-aad";
/// Binding-bytes prefix of a decryption share's DLEQ proof.
pub const DECRYPTION_SHARE: &[u8] = b"urne/v1/ceremony/decryption-share";
/// Digest of the ciphertext list a set of decryption shares was checked against.
pub const CIPHERTEXT_LIST: &[u8] = b"urne/v1/ceremony/ciphertext-list";
/// Magic bytes opening a trustee state file.
pub const STATE_FILE_MAGIC: &[u8] = b"urne/v1/ceremony/trustee-state";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_frozen() {
        // Changing one of these breaks every ceremony ever run: add a new label instead.
        assert_eq!(CONTEXT, b"urne/v1/ceremony/context");
        assert_eq!(COMMITMENT_HASH, b"urne/v1/ceremony/commitment-hash");
        assert_eq!(SHARE_KEY, b"urne/v1/ceremony/share-key");
        assert_eq!(SHARE_AAD, b"urne/v1/ceremony/share-aad");
        assert_eq!(DECRYPTION_SHARE, b"urne/v1/ceremony/decryption-share");
        assert_eq!(CIPHERTEXT_LIST, b"urne/v1/ceremony/ciphertext-list");
        assert_eq!(STATE_FILE_MAGIC, b"urne/v1/ceremony/trustee-state");
    }
}
