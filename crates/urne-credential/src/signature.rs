//! Ballot signatures by credential (spec/22 §22.4): a Schnorr proof of knowledge of the
//! credential's secret, bound to the election context and the ballot's digest, so a
//! ballot cannot be re-signed by anyone else nor the signature moved to another ballot
//! or election.

use rand_core::CryptoRng;
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::{ContextHash, ProofContext, Relations};

use crate::error::CredentialError;
use crate::labels::BALLOT_SIGNATURE;
use crate::secret::{Credential, PublicCredential};

/// A ballot's signature by its credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotSignature(SchnorrProof);

fn binding(ballot_digest: &[u8; 32]) -> Vec<u8> {
    let mut b = Vec::with_capacity(BALLOT_SIGNATURE.len() + 32);
    b.extend_from_slice(BALLOT_SIGNATURE);
    b.extend_from_slice(ballot_digest);
    b
}

impl BallotSignature {
    /// Bytes of the encoding (a Schnorr proof: version ‖ A ‖ z).
    pub const LEN: usize = SchnorrProof::LEN;

    /// Signs a ballot's digest in an election.
    pub fn sign<R: CryptoRng + ?Sized>(
        credential: &Credential,
        context: &ContextHash,
        ballot_digest: &[u8; 32],
        rng: &mut R,
    ) -> Result<Self, CredentialError> {
        let binding = binding(ballot_digest);
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
        ballot_digest: &[u8; 32],
    ) -> Result<Relations, CredentialError> {
        let binding = binding(ballot_digest);
        self.0
            .relations(&ProofContext::new(context, &binding), &credential.0)
            .map_err(|_| CredentialError::Signature)
    }

    /// Verifies the signature on its own.
    pub fn verify(
        &self,
        credential: &PublicCredential,
        context: &ContextHash,
        ballot_digest: &[u8; 32],
    ) -> Result<(), CredentialError> {
        self.relations(credential, context, ballot_digest)?
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signature_binds_credential_context_and_ballot() {
        let mut rng = rand::rng();
        let c = Credential::generate(&mut rng);
        let other = Credential::generate(&mut rng);
        let ctx = ContextHash([1; 32]);
        let digest = [2; 32];
        let sig = BallotSignature::sign(&c, &ctx, &digest, &mut rng).unwrap();
        let sig = BallotSignature::decode(&sig.to_bytes()).unwrap();
        sig.verify(&c.public(), &ctx, &digest).unwrap();
        assert!(sig.verify(&other.public(), &ctx, &digest).is_err());
        assert!(
            sig.verify(&c.public(), &ContextHash([9; 32]), &digest)
                .is_err()
        );
        assert!(sig.verify(&c.public(), &ctx, &[3; 32]).is_err());
        let mut bytes = sig.to_bytes();
        bytes[40] ^= 1;
        let tampered = BallotSignature::decode(&bytes);
        assert!(
            tampered.is_err()
                || tampered
                    .unwrap()
                    .verify(&c.public(), &ctx, &digest)
                    .is_err()
        );
        let mut long = sig.to_bytes();
        long.push(0);
        assert!(BallotSignature::decode(&long).is_err());
    }
}
