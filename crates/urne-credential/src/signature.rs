//! Ballot signatures by credential (spec/22 §22.4): a Schnorr proof of knowledge of the
//! credential's secret, bound to the election context, the ballot's digest and the
//! voter's decision (cast or audit), so a ballot cannot be re-signed by anyone else nor
//! the signature moved to another ballot, another election or the other decision.

use rand_core::CryptoRng;
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::{ContextHash, ProofContext, Relations};

use crate::error::CredentialError;
use crate::labels::{BALLOT_AUDIT_SIGNATURE, BALLOT_SIGNATURE};
use crate::secret::{Credential, PublicCredential};

/// What a ballot's signature authorises (spec/22 §22.4). A cast's signature is no audit's
/// and an audit's is no cast's: whoever relays an audit (it carries the ballot's
/// openings) cannot post its ballot as a cast, so a device cheating with the relay or
/// the board cannot turn every Benaloh challenge into a counted ballot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The ballot is cast (`ballot.cast`).
    Cast,
    /// The ballot is audited: opened, never counted (`ballot.audit`).
    Audit,
}

impl Decision {
    /// The label that starts the signature's binding bytes.
    pub fn label(self) -> &'static [u8] {
        match self {
            Self::Cast => BALLOT_SIGNATURE,
            Self::Audit => BALLOT_AUDIT_SIGNATURE,
        }
    }
}

/// A ballot's signature by its credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotSignature(SchnorrProof);

/// Wiping a signature (spec/60 §60.1): the booth wipes the one the voter did not release.
impl zeroize::Zeroize for BallotSignature {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

fn binding(decision: Decision, ballot_digest: &[u8; 32]) -> Vec<u8> {
    let label = decision.label();
    let mut b = Vec::with_capacity(label.len() + 32);
    b.extend_from_slice(label);
    b.extend_from_slice(ballot_digest);
    b
}

impl BallotSignature {
    /// Bytes of the encoding (a Schnorr proof: version ‖ A ‖ z).
    pub const LEN: usize = SchnorrProof::LEN;

    /// Signs a ballot's digest in an election, for one decision. A device signs both
    /// before it learns which the voter takes (the Benaloh condition, spec/23 §23.7) and
    /// releases only the one taken.
    pub fn sign<R: CryptoRng + ?Sized>(
        credential: &Credential,
        context: &ContextHash,
        decision: Decision,
        ballot_digest: &[u8; 32],
        rng: &mut R,
    ) -> Result<Self, CredentialError> {
        let binding = binding(decision, ballot_digest);
        let public = credential.public();
        SchnorrProof::prove(
            &ProofContext::new(context, &binding),
            &credential.secret(),
            &public.0,
            rng,
        )
        .map(Self)
        .map_err(|_| CredentialError::Signature)
    }

    /// The signature's verification equation, for a batch.
    pub fn relations(
        &self,
        credential: &PublicCredential,
        context: &ContextHash,
        decision: Decision,
        ballot_digest: &[u8; 32],
    ) -> Result<Relations, CredentialError> {
        let binding = binding(decision, ballot_digest);
        self.0
            .relations(&ProofContext::new(context, &binding), &credential.0)
            .map_err(|_| CredentialError::Signature)
    }

    /// Verifies the signature on its own.
    pub fn verify(
        &self,
        credential: &PublicCredential,
        context: &ContextHash,
        decision: Decision,
        ballot_digest: &[u8; 32],
    ) -> Result<(), CredentialError> {
        self.relations(credential, context, decision, ballot_digest)?
            .check()
            .map_err(|_| CredentialError::Signature)
    }

    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// Decodes strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, CredentialError> {
        SchnorrProof::decode(bytes)
            .map(Self)
            .map_err(|e| CredentialError::decode("signature", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// spec/22 §22.1's label table, parsed: the bytes of each label this crate uses for
    /// ballot signatures are the page's.
    #[test]
    fn the_ballot_signature_labels_are_frozen_as_spec_22_lists_them() {
        let path = format!(
            "{}/../../spec/22-credentials.md",
            env!("CARGO_MANIFEST_DIR")
        );
        let spec = std::fs::read_to_string(&path).unwrap();
        for (name, label) in [
            ("BALLOT_SIGNATURE", Decision::Cast.label()),
            ("BALLOT_AUDIT_SIGNATURE", Decision::Audit.label()),
        ] {
            let row = spec
                .lines()
                .find(|l| l.starts_with(&format!("| {name} |")))
                .unwrap_or_else(|| panic!("spec/22 §22.1 lists {name}"));
            let listed = row.split('`').nth(1).unwrap().replace("\\n", "\n");
            assert_eq!(listed.as_bytes(), label, "{name}");
        }
    }

    #[test]
    fn a_signature_binds_credential_context_decision_and_ballot() {
        let mut rng = rand::rng();
        let c = Credential::generate(&mut rng);
        let other = Credential::generate(&mut rng);
        let ctx = ContextHash([1; 32]);
        let digest = [2; 32];
        let cast = Decision::Cast;
        let sig = BallotSignature::sign(&c, &ctx, cast, &digest, &mut rng).unwrap();
        let sig = BallotSignature::decode(&sig.to_bytes()).unwrap();
        sig.verify(&c.public(), &ctx, cast, &digest).unwrap();
        assert!(sig.verify(&other.public(), &ctx, cast, &digest).is_err());
        assert!(
            sig.verify(&c.public(), &ContextHash([9; 32]), cast, &digest)
                .is_err()
        );
        assert!(sig.verify(&c.public(), &ctx, cast, &[3; 32]).is_err());
        // A cast's signature is no audit's, and an audit's no cast's.
        assert!(
            sig.verify(&c.public(), &ctx, Decision::Audit, &digest)
                .is_err()
        );
        let audit = BallotSignature::sign(&c, &ctx, Decision::Audit, &digest, &mut rng).unwrap();
        audit
            .verify(&c.public(), &ctx, Decision::Audit, &digest)
            .unwrap();
        assert!(audit.verify(&c.public(), &ctx, cast, &digest).is_err());
        let mut bytes = sig.to_bytes();
        bytes[40] ^= 1;
        let tampered = BallotSignature::decode(&bytes);
        assert!(
            tampered.is_err()
                || tampered
                    .unwrap()
                    .verify(&c.public(), &ctx, cast, &digest)
                    .is_err()
        );
        let mut long = sig.to_bytes();
        long.push(0);
        assert!(BallotSignature::decode(&long).is_err());
    }
}
