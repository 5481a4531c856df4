//! Voter credentials: the pseudonymous mode, and the anonymous mode's wallet and registry
//! snapshots ([`wallet`], [`registry`]).
//!
//! Pseudonymous mode (spec/22-credentials.md; ARCHITECTURE §5, the
//! Belenios model).
//!
//! What it is for: the registrar draws one secret [`Credential`] per voter — a string a
//! person can type, with a checksum — from which the voter's secret scalar is derived by
//! a labelled hash; only the public credentials are published, as a [`CredentialList`]
//! (sorted, distinct, optionally weighted) split into records under one Merkle root; a
//! ballot is signed by its credential ([`BallotSignature`]) over the ballot and the
//! election context, so a ballot copied under another credential does not verify.
//!
//! What it must never do: publish or log a secret credential or the mapping from voters
//! to credentials, accept a list that is not sorted and distinct, or panic on input.
//! Pure: no I/O; builds for wasm32 (the browser booth signs ballots with it).

#![deny(unsafe_code)]

mod error;
mod list;
pub mod registry;
mod secret;
mod signature;
pub mod wallet;

pub use error::CredentialError;
pub use list::{
    CredentialList, CredentialListPart, ENTRY_BYTES, ListAssembler, ListedCredential,
    MAX_ENTRIES_PER_PART, parts_for,
};
pub use secret::{CREDENTIAL_CHARS, Credential, PublicCredential};
pub use signature::{BallotSignature, Decision};

/// Frozen labels of this crate (spec/22 §22.1).
pub mod labels {
    /// Derivation of a credential's secret scalar from its characters.
    pub const CREDENTIAL_SECRET: &[u8] = b"urne/v1/credential/secret\n";
    /// The checksum of a credential string.
    pub const CREDENTIAL_CHECKSUM: &[u8] = b"urne/v1/credential/checksum\n";
    /// The binding of a cast ballot's signature (Schnorr proof of the credential's scalar).
    pub const BALLOT_SIGNATURE: &[u8] = b"urne/v1/credential/ballot-signature\n";
    /// The binding of an audited ballot's signature (spec/22 §22.4).
    pub const BALLOT_AUDIT_SIGNATURE: &[u8] = b"urne/v1/credential/ballot-audit-signature\n";
    /// The magic opening a wallet file (spec/30 §30.3).
    pub const WALLET_FILE_MAGIC: &[u8] = b"urne-wallet\n";
    /// The binding of an enrolment request's proof of knowledge (spec/30 §30.4).
    pub const ENROLMENT: &[u8] = b"urne/v1/wallet/enrolment\n";
    /// The id of a registry snapshot, hashed over its header (spec/31 §31.4).
    pub const SNAPSHOT_ID: &[u8] = b"urne/v1/registry/snapshot-id\n";
    /// What each registrar signs: this label, then the snapshot id (spec/31 §31.4).
    pub const SNAPSHOT_SIGNATURE: &[u8] = b"urne/v1/registry/snapshot-signature\n";
    /// The keyed order that deals keys to buckets (spec/31 §31.6).
    pub const BUCKET_ORDER: &[u8] = b"urne/v1/registry/bucket-order\n";
    /// The padding points of a bucket (spec/31 §31.6).
    pub const BUCKET_PADDING: &[u8] = b"urne/v1/registry/bucket-padding\n";
    /// The generator of each district in district commitments (spec/30 §30.2).
    pub const DISTRICT_GENERATOR: &[u8] = b"urne/v1/registry/district-generator\n";
    /// Padding commitments of a bucket's attribute ring (spec/31 §31.6).
    pub const BUCKET_PADDING_COMMITMENT: &[u8] = b"urne/v1/registry/bucket-padding-commitment\n";
}
