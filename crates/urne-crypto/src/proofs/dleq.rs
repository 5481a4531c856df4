//! Chaum–Pedersen proof that log_G1 X1 = log_G2 X2 (spec/04-proofs.md §4.3).
//!
//! Used for decryption shares: G1 = G, X1 = a trustee's verification key, G2 = α of
//! the ciphertext, X2 = the share. α is the identity for a contest nobody voted in
//! (the sum of no ciphertexts), and then so are the share and A2 = w·α: the decoder
//! accepts A2 = O, and the equations stay sound (spec/04-proofs.md §4.3.1).
#![allow(non_snake_case)]

use curve25519_dalek::scalar::Scalar as DalekScalar;
use merlin::Transcript;
use rand_core::CryptoRng;

use super::{PROOF_ENCODING_VERSION, prover_challenge, self_check};
use crate::batch::Relations;
use crate::encoding::{DecodeError, Point, Reader, Scalar, hex_serde};
use crate::error::{ProveError, VerifyError};
use crate::labels::PROOF_DLEQ;
use crate::secret::{NonceSource, SecretScalar};
use crate::transcript::{ProofContext, TranscriptExt};
use crate::weaken::{Check, skipped};

/// The statement: X1 = x·G1 and X2 = x·G2 for one x.
#[derive(Clone, Copy, Debug)]
pub struct DleqStatement<'a> {
    /// First base.
    pub G1: &'a Point,
    /// x·G1.
    pub X1: &'a Point,
    /// Second base.
    pub G2: &'a Point,
    /// x·G2.
    pub X2: &'a Point,
}

/// The proof (A1, A2, z): A1 = w·G1, A2 = w·G2, z = w + c·x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DleqProof {
    /// Commitment w·G1.
    pub A1: Point,
    /// Commitment w·G2.
    pub A2: Point,
    /// Response.
    pub z: Scalar,
}

#[cfg(feature = "hazmat")]
const NONCES: usize = 1;

fn statement_transcript(context: &ProofContext<'_>, s: &DleqStatement<'_>) -> Transcript {
    let mut transcript = context.open_transcript(PROOF_DLEQ);
    transcript.append_point(b"G1", s.G1);
    transcript.append_point(b"X1", s.X1);
    transcript.append_point(b"G2", s.G2);
    transcript.append_point(b"X2", s.X2);
    transcript
}

pub(crate) fn challenge(
    context: &ProofContext<'_>,
    s: &DleqStatement<'_>,
    A1: &Point,
    A2: &Point,
) -> DalekScalar {
    let mut transcript = statement_transcript(context, s);
    transcript.append_point(b"A1", A1);
    transcript.append_point(b"A2", A2);
    transcript.challenge_scalar(b"c")
}

impl DleqProof {
    /// Length of the encoding: version ‖ A1 ‖ A2 ‖ z.
    pub const LEN: usize = 97;

    /// Proves the statement with witness x.
    pub fn prove<R: CryptoRng + ?Sized>(
        context: &ProofContext<'_>,
        statement: &DleqStatement<'_>,
        x: &SecretScalar,
        rng: &mut R,
    ) -> Result<Self, ProveError> {
        let nonces = NonceSource::hedged(&statement_transcript(context, statement), &[x], rng);
        let proof = Self::prove_inner(context, statement, x, nonces)?;
        self_check(|| proof.verify(context, statement))?;
        Ok(proof)
    }

    /// As [`Self::prove`], with the nonce w given (`crate::hazmat`).
    #[cfg(feature = "hazmat")]
    pub(crate) fn prove_with_nonces(
        context: &ProofContext<'_>,
        statement: &DleqStatement<'_>,
        x: &SecretScalar,
        nonces: &[SecretScalar],
    ) -> Result<Self, ProveError> {
        let source = NonceSource::explicit(nonces, NONCES)?;
        let proof = Self::prove_inner(context, statement, x, source)?;
        self_check(|| proof.verify(context, statement))?;
        Ok(proof)
    }

    fn prove_inner(
        context: &ProofContext<'_>,
        s: &DleqStatement<'_>,
        x: &SecretScalar,
        mut nonces: NonceSource<'_>,
    ) -> Result<Self, ProveError> {
        // With G1 = O, A1 = w·O = O, which the encoding refuses (§4.3.1): the statement
        // would say nothing about x.
        if s.G1.is_identity() {
            return Err(ProveError::InvalidStatement {
                detail: "the first base G1 is the identity",
            });
        }
        let x_value = x.expose_secret();
        if s.G1.as_ristretto() * x_value != *s.X1.as_ristretto()
            || s.G2.as_ristretto() * x_value != *s.X2.as_ristretto()
        {
            return Err(ProveError::WitnessMismatch);
        }
        let w = nonces.next();
        let A1 = Point::from_ristretto(s.G1.as_ristretto() * *w);
        let A2 = Point::from_ristretto(s.G2.as_ristretto() * *w);
        let c = prover_challenge(challenge(context, s, &A1, &A2));
        Ok(Self {
            A1,
            A2,
            z: Scalar(*w + c * x_value),
        })
    }

    /// The equations z·G1 = A1 + c·X1 and z·G2 = A2 + c·X2.
    pub fn relations(
        &self,
        context: &ProofContext<'_>,
        statement: &DleqStatement<'_>,
    ) -> Result<Relations, VerifyError> {
        let c = challenge(context, statement, &self.A1, &self.A2);
        let mut r = Relations::with_capacity(3, 3, 6, 2);
        let G1 = r.shared(statement.G1);
        let X1 = r.shared(statement.X1);
        let G2 = r.shared(statement.G2);
        let X2 = r.local(statement.X2.as_ristretto());
        let A1 = r.local(self.A1.as_ristretto());
        let A2 = r.local(self.A2.as_ristretto());
        let minus_one = -DalekScalar::ONE;
        if !skipped(Check::DleqE1) {
            r.equation(
                "E1 z·G1 = A1 + c·X1",
                None,
                [(self.z.0, G1), (minus_one, A1), (-c, X1)],
            );
        }
        if !skipped(Check::DleqE2) {
            r.equation(
                "E2 z·G2 = A2 + c·X2",
                None,
                [(self.z.0, G2), (minus_one, A2), (-c, X2)],
            );
        }
        Ok(r)
    }

    /// Verifies this proof on its own.
    pub fn verify(
        &self,
        context: &ProofContext<'_>,
        statement: &DleqStatement<'_>,
    ) -> Result<(), VerifyError> {
        self.relations(context, statement)?.check()
    }

    /// version ‖ A1 ‖ A2 ‖ z.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(PROOF_ENCODING_VERSION);
        out.extend_from_slice(self.A1.as_bytes());
        out.extend_from_slice(self.A2.as_bytes());
        out.extend_from_slice(&self.z.to_bytes());
        out
    }

    /// Strict decoding: version 1, canonical points, A1 not the identity (A2 may be:
    /// it is w·G2, and G2 = α is the identity for an empty contest), no trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        reader.version("version", PROOF_ENCODING_VERSION)?;
        let A1 = reader.point_non_identity("A1")?;
        let A2 = reader.point("A2")?;
        let z = reader.scalar("z")?;
        reader.finish()?;
        Ok(Self { A1, A2, z })
    }
}

hex_serde!(DleqProof);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::{basepoint, generator_h};
    use crate::transcript::ContextHash;

    struct Fixture {
        x: SecretScalar,
        g1: Point,
        x1: Point,
        g2: Point,
        x2: Point,
    }

    fn fixture() -> Fixture {
        let x = SecretScalar::random(&mut rand::rng());
        let g1 = basepoint();
        let g2 = generator_h();
        let x1 = Point::from_ristretto(g1.as_ristretto() * x.expose_secret());
        let x2 = Point::from_ristretto(g2.as_ristretto() * x.expose_secret());
        Fixture { x, g1, x1, g2, x2 }
    }

    #[test]
    fn honest_proof_verifies_and_round_trips() {
        let f = fixture();
        let h = ContextHash([1; 32]);
        let ctx = ProofContext::new(&h, b"share 3");
        let s = DleqStatement {
            G1: &f.g1,
            X1: &f.x1,
            G2: &f.g2,
            X2: &f.x2,
        };
        let proof = DleqProof::prove(&ctx, &s, &f.x, &mut rand::rng()).unwrap();
        proof.verify(&ctx, &s).unwrap();
        assert_eq!(DleqProof::decode(&proof.to_bytes()).unwrap(), proof);
    }

    #[test]
    fn a_share_of_an_empty_contest_proves_encodes_decodes_and_verifies() {
        // α = O (no ballot in the contest): the share x·α is O and so is A2 = w·α.
        let f = fixture();
        let h = ContextHash([1; 32]);
        let ctx = ProofContext::new(&h, b"trustee 1");
        let identity = Point::identity();
        let s = DleqStatement {
            G1: &f.g1,
            X1: &f.x1,
            G2: &identity,
            X2: &identity,
        };
        let proof = DleqProof::prove(&ctx, &s, &f.x, &mut rand::rng()).unwrap();
        assert!(proof.A2.is_identity());
        let decoded = DleqProof::decode(&proof.to_bytes()).unwrap();
        assert_eq!(decoded, proof);
        decoded.verify(&ctx, &s).unwrap();
        // A non-identity share of the empty contest is still refused.
        let g = basepoint();
        let wrong = DleqStatement { X2: &g, ..s };
        assert!(proof.verify(&ctx, &wrong).is_err());
        assert_eq!(
            DleqProof::prove(&ctx, &wrong, &f.x, &mut rand::rng()).unwrap_err(),
            ProveError::WitnessMismatch
        );
    }

    #[test]
    fn a_first_base_of_identity_is_refused_by_prover_and_decoder() {
        let f = fixture();
        let h = ContextHash([1; 32]);
        let ctx = ProofContext::new(&h, b"");
        let identity = Point::identity();
        let s = DleqStatement {
            G1: &identity,
            X1: &identity,
            G2: &f.g2,
            X2: &f.x2,
        };
        assert!(matches!(
            DleqProof::prove(&ctx, &s, &f.x, &mut rand::rng()),
            Err(ProveError::InvalidStatement { .. })
        ));
        let mut bytes = vec![PROOF_ENCODING_VERSION];
        bytes.extend_from_slice(&[0; 64]);
        bytes.extend_from_slice(&[0; 32]);
        assert_eq!(DleqProof::decode(&bytes).unwrap_err().field(), "A1");
    }

    #[test]
    fn prover_refuses_unequal_logs() {
        let f = fixture();
        let h = ContextHash([1; 32]);
        let wrong = Point::from_ristretto(f.x2.as_ristretto() + f.g2.as_ristretto());
        let s = DleqStatement {
            G1: &f.g1,
            X1: &f.x1,
            G2: &f.g2,
            X2: &wrong,
        };
        let err = DleqProof::prove(&ProofContext::new(&h, b""), &s, &f.x, &mut rand::rng());
        assert_eq!(err.unwrap_err(), ProveError::WitnessMismatch);
    }

    #[test]
    fn proof_fails_under_each_altered_public_input_and_field() {
        let f = fixture();
        let h = ContextHash([1; 32]);
        let ctx = ProofContext::new(&h, b"b");
        let s = DleqStatement {
            G1: &f.g1,
            X1: &f.x1,
            G2: &f.g2,
            X2: &f.x2,
        };
        let proof = DleqProof::prove(&ctx, &s, &f.x, &mut rand::rng()).unwrap();
        let h2 = ContextHash([2; 32]);
        assert!(
            proof.verify(&ProofContext::new(&h2, b"b"), &s).is_err(),
            "context"
        );
        assert!(
            proof.verify(&ProofContext::new(&h, b"c"), &s).is_err(),
            "binding"
        );
        let other = Point::from_ristretto(f.x1.as_ristretto() + f.g1.as_ristretto());
        for i in 0..4 {
            let mut pts = [&f.g1, &f.x1, &f.g2, &f.x2];
            pts[i] = &other;
            let altered = DleqStatement {
                G1: pts[0],
                X1: pts[1],
                G2: pts[2],
                X2: pts[3],
            };
            assert!(proof.verify(&ctx, &altered).is_err(), "statement point {i}");
        }
        let mut bad = proof;
        bad.A1 = other;
        assert!(bad.verify(&ctx, &s).is_err(), "A1");
        let mut bad = proof;
        bad.A2 = other;
        assert!(bad.verify(&ctx, &s).is_err(), "A2");
        let mut bad = proof;
        bad.z = Scalar(proof.z.0 + DalekScalar::ONE);
        assert!(bad.verify(&ctx, &s).is_err(), "z");
    }
}
