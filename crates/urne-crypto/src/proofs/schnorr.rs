//! Schnorr proof of knowledge of x such that X = x·G (spec/04-proofs.md §4.2).
#![allow(non_snake_case)]

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use merlin::Transcript;
use rand_core::CryptoRng;

use super::{PROOF_ENCODING_VERSION, prover_challenge, self_check};
use crate::batch::{Base, Relations};
use crate::encoding::{DecodeError, Point, Reader, Scalar, hex_serde};
use crate::error::{ProveError, VerifyError};
use crate::group::basepoint;
use crate::labels::PROOF_SCHNORR;
use crate::secret::{NonceSource, SecretScalar};
use crate::transcript::{ProofContext, TranscriptExt};
use crate::weaken::{Check, skipped};

/// The proof (A, z): A = w·G, z = w + c·x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchnorrProof {
    /// Commitment A = w·G.
    pub A: Point,
    /// Response z = w + c·x.
    pub z: Scalar,
}

/// Wiping a proof (spec/60 §60.1): a ballot signature the booth will not release.
impl zeroize::Zeroize for SchnorrProof {
    fn zeroize(&mut self) {
        self.A.zeroize();
        self.z.zeroize();
    }
}

/// Nonces drawn: w.
#[cfg(feature = "hazmat")]
const NONCES: usize = 1;

fn statement_transcript(context: &ProofContext<'_>, X: &Point) -> Transcript {
    let mut transcript = context.open_transcript(PROOF_SCHNORR);
    transcript.append_point(b"G", &basepoint());
    transcript.append_point(b"X", X);
    transcript
}

/// The challenge for commitment A (§4.2, steps 5 and 6).
pub(crate) fn challenge(context: &ProofContext<'_>, X: &Point, A: &Point) -> DalekScalar {
    let mut transcript = statement_transcript(context, X);
    transcript.append_point(b"A", A);
    transcript.challenge_scalar(b"c")
}

impl SchnorrProof {
    /// Length of the encoding: version ‖ A ‖ z.
    pub const LEN: usize = 65;

    /// Proves knowledge of `x` with `X = x·G`.
    pub fn prove<R: CryptoRng + ?Sized>(
        context: &ProofContext<'_>,
        x: &SecretScalar,
        X: &Point,
        rng: &mut R,
    ) -> Result<Self, ProveError> {
        let transcript = statement_transcript(context, X);
        let nonces = NonceSource::hedged(&transcript, &[x], rng);
        let proof = Self::prove_inner(transcript, x, X, nonces)?;
        self_check(|| proof.verify(context, X))?;
        Ok(proof)
    }

    /// As [`Self::prove`], with the nonce w given (`crate::hazmat`).
    #[cfg(feature = "hazmat")]
    pub(crate) fn prove_with_nonces(
        context: &ProofContext<'_>,
        x: &SecretScalar,
        X: &Point,
        nonces: &[SecretScalar],
    ) -> Result<Self, ProveError> {
        let source = NonceSource::explicit(nonces, NONCES)?;
        let proof = Self::prove_inner(statement_transcript(context, X), x, X, source)?;
        self_check(|| proof.verify(context, X))?;
        Ok(proof)
    }

    fn prove_inner(
        mut transcript: Transcript,
        x: &SecretScalar,
        X: &Point,
        mut nonces: NonceSource<'_>,
    ) -> Result<Self, ProveError> {
        if RISTRETTO_BASEPOINT_TABLE * x.expose_secret() != *X.as_ristretto() {
            return Err(ProveError::WitnessMismatch);
        }
        let w = nonces.next();
        let A = Point::from_ristretto(RISTRETTO_BASEPOINT_TABLE * &*w);
        transcript.append_point(b"A", &A);
        let c = prover_challenge(transcript.challenge_scalar(b"c"));
        let z = Scalar(*w + c * x.expose_secret());
        Ok(Self { A, z })
    }

    /// The verification equation z·G = A + c·X, as terms.
    pub fn relations(
        &self,
        context: &ProofContext<'_>,
        X: &Point,
    ) -> Result<Relations, VerifyError> {
        let c = challenge(context, X, &self.A);
        let mut relations = Relations::with_capacity(0, 2, 3, 1);
        let A = relations.local(self.A.as_ristretto());
        let X = relations.local(X.as_ristretto());
        if !skipped(Check::SchnorrE1) {
            relations.equation(
                "E1 z·G = A + c·X",
                None,
                [(self.z.0, Base::G), (-DalekScalar::ONE, A), (-c, X)],
            );
        }
        Ok(relations)
    }

    /// Verifies this proof on its own.
    pub fn verify(&self, context: &ProofContext<'_>, X: &Point) -> Result<(), VerifyError> {
        self.relations(context, X)?.check()
    }

    /// version ‖ A ‖ z.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(PROOF_ENCODING_VERSION);
        out.extend_from_slice(self.A.as_bytes());
        out.extend_from_slice(&self.z.to_bytes());
        out
    }

    /// Strict decoding: version 1, canonical fields, A not the identity, no trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        reader.version("version", PROOF_ENCODING_VERSION)?;
        let A = reader.point_non_identity("A")?;
        let z = reader.scalar("z")?;
        reader.finish()?;
        Ok(Self { A, z })
    }
}

hex_serde!(SchnorrProof);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::ContextHash;

    fn setup() -> (SecretScalar, Point) {
        let x = SecretScalar::random(&mut rand::rng());
        let X = Point::from_ristretto(RISTRETTO_BASEPOINT_TABLE * x.expose_secret());
        (x, X)
    }

    #[test]
    fn honest_proof_verifies_and_round_trips() {
        let (x, X) = setup();
        let ctx_hash = ContextHash([7; 32]);
        let ctx = ProofContext::new(&ctx_hash, b"trustee 1");
        let proof = SchnorrProof::prove(&ctx, &x, &X, &mut rand::rng()).unwrap();
        proof.verify(&ctx, &X).unwrap();
        let bytes = proof.to_bytes();
        assert_eq!(bytes.len(), SchnorrProof::LEN);
        assert_eq!(SchnorrProof::decode(&bytes).unwrap(), proof);
    }

    #[test]
    fn prover_refuses_a_wrong_witness() {
        let (_, X) = setup();
        let ctx_hash = ContextHash([7; 32]);
        let other = SecretScalar::random(&mut rand::rng());
        let err = SchnorrProof::prove(
            &ProofContext::new(&ctx_hash, b""),
            &other,
            &X,
            &mut rand::rng(),
        );
        assert_eq!(err.unwrap_err(), ProveError::WitnessMismatch);
    }

    #[test]
    fn proof_fails_under_each_altered_public_input_and_field() {
        let (x, X) = setup();
        let ctx_hash = ContextHash([7; 32]);
        let ctx = ProofContext::new(&ctx_hash, b"binding");
        let proof = SchnorrProof::prove(&ctx, &x, &X, &mut rand::rng()).unwrap();
        let other_hash = ContextHash([8; 32]);
        assert!(
            proof
                .verify(&ProofContext::new(&other_hash, b"binding"), &X)
                .is_err(),
            "context"
        );
        assert!(
            proof
                .verify(&ProofContext::new(&ctx_hash, b"bindinG"), &X)
                .is_err(),
            "binding"
        );
        let (_, X2) = setup();
        assert!(proof.verify(&ctx, &X2).is_err(), "X");
        let mut bad = proof;
        bad.z = Scalar(proof.z.0 + DalekScalar::ONE);
        assert!(bad.verify(&ctx, &X).is_err(), "z");
        let mut bad = proof;
        bad.A = Point::from_ristretto(proof.A.as_ristretto() + X.as_ristretto());
        assert!(bad.verify(&ctx, &X).is_err(), "A");
    }

    #[test]
    fn decoding_rejects_bad_version_identity_commitment_and_trailing_bytes() {
        let (x, X) = setup();
        let ctx_hash = ContextHash([7; 32]);
        let proof =
            SchnorrProof::prove(&ProofContext::new(&ctx_hash, b""), &x, &X, &mut rand::rng())
                .unwrap();
        let mut bytes = proof.to_bytes();
        bytes[0] = 2;
        assert_eq!(SchnorrProof::decode(&bytes).unwrap_err().field(), "version");
        let mut bytes = proof.to_bytes();
        bytes[1..33].fill(0);
        assert_eq!(SchnorrProof::decode(&bytes).unwrap_err().field(), "A");
        let mut bytes = proof.to_bytes();
        bytes.push(0);
        assert!(SchnorrProof::decode(&bytes).is_err());
        assert!(SchnorrProof::decode(&proof.to_bytes()[..64]).is_err());
    }
}
