//! Structural forgeries for the golden vectors (spec/08 §8.11): a prover that commits to
//! any matrix σ instead of the one-hot digits of an index. Not constant time, ring-sized
//! sums computed naively: it exists to show that E1 and E2 are what keep σ one-hot.
//!
//! With σ a matrix whose rows each sum to 1 (the verifier derives f_{j,0} from that) and
//! r = Σ_k (Π_j σ_{j,k_j})·r_k, E1, E3 and E4 hold for any σ: only E2 sees an entry that
//! is not a bit. A signer who knows two keys of the ring could then make as many tags as
//! combinations (r = 2·r_b − r_a, …), i.e. sign a petition twice. A B committed to another
//! matrix than the one the responses answer for fails E1 alone.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;

use super::{
    Error, Ring, Signature, challenge_from, commitment_generators, linking_base_encoding,
    statement_transcript, tag_for,
};
use crate::encoding::{DecodeError, Point};
use crate::secret::{NonceSource, SecretScalar};
use zeroize::Zeroizing;

fn shape_error(field: &str, expected: usize, found: usize) -> Error {
    Error::Decode(DecodeError::new(
        field,
        crate::DecodeErrorKind::WrongLength { expected, found },
    ))
}

/// As spec/08 §8.7 with σ (m rows of n, row-major) in place of the digits of an index;
/// `sigma_B` (same shape) is what B commits to (σ itself for E2-only forgeries). `r` is
/// the secret E3 and E4 answer for, `tag_secret` makes J. Rows of σ must sum to 1.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forge(
    ring: &Ring,
    sigma: &[Scalar],
    sigma_B: &[Scalar],
    r: &Zeroizing<Scalar>,
    tag_secret: &Zeroizing<Scalar>,
    linking_base: &RistrettoPoint,
    context: &[u8],
    nonces: &[SecretScalar],
) -> Result<Signature, Error> {
    let p = ring.parameters;
    let (n, m) = (p.n(), p.m);
    if sigma.len() != m * n {
        return Err(shape_error("sigma", m * n, sigma.len()));
    }
    if sigma_B.len() != m * n {
        return Err(shape_error("sigma_B", m * n, sigma_B.len()));
    }
    if sigma
        .chunks_exact(n)
        .any(|row| row.iter().sum::<Scalar>() != Scalar::ONE)
    {
        return Err(Error::WitnessMismatch);
    }
    let U = linking_base_encoding(linking_base)?;
    let J = tag_for(tag_secret, linking_base);
    let mut source = NonceSource::explicit(nonces, p.nonce_count())
        .map_err(|_| shape_error("nonces", p.nonce_count(), nonces.len()))?;
    let (r_A, r_B, r_C, r_D) = (source.next(), source.next(), source.next(), source.next());
    let mut a = vec![Scalar::ZERO; m * n];
    for j in 0..m {
        for i in 1..n {
            let value = *source.next();
            a[j * n + i] = value;
            a[j * n] -= value;
        }
    }
    let rho: Vec<Scalar> = (0..m).map(|_| *source.next()).collect();

    let generators = commitment_generators();
    let bases = generators.for_parameters(&p);
    let commit = |entries: &[Scalar], blind: &Scalar| {
        Point::from_ristretto(RistrettoPoint::vartime_multiscalar_mul(
            entries.iter().chain([blind]),
            bases.iter().chain([&generators.H]),
        ))
    };
    let A = commit(&a, &r_A);
    let B = commit(sigma_B, &r_B);
    let c: Vec<Scalar> = a
        .iter()
        .zip(sigma)
        .map(|(a, s)| a * (Scalar::ONE - s - s))
        .collect();
    let C = commit(&c, &r_C);
    let d: Vec<Scalar> = a.iter().map(|a| -(a * a)).collect();
    let D = commit(&d, &r_D);

    // X_d = Σ_k p_{k,d}·M_k + ρ_d·G, p_k(x) = Π_j (σ_{j,k_j}·x + a_{j,k_j}), expanded.
    let mut coefficients = vec![vec![Scalar::ZERO; ring.len()]; m];
    for k in 0..ring.len() {
        let mut poly = vec![Scalar::ONE];
        for j in 0..m {
            let digit = (k >> (p.base_bits as usize * j)) & (n - 1);
            let (s, a) = (sigma[j * n + digit], a[j * n + digit]);
            let mut next = vec![Scalar::ZERO; poly.len() + 1];
            for (degree, value) in poly.iter().enumerate() {
                next[degree] += value * a;
                next[degree + 1] += value * s;
            }
            poly = next;
        }
        for (d, row) in coefficients.iter_mut().enumerate() {
            row[k] = poly[d];
        }
    }
    let X: Vec<Point> = coefficients
        .iter()
        .zip(&rho)
        .map(|(row, rho_d)| {
            Point::from_ristretto(
                RistrettoPoint::vartime_multiscalar_mul(row, &ring.keys)
                    + RISTRETTO_BASEPOINT_TABLE * rho_d,
            )
        })
        .collect();
    let Y: Vec<Point> = rho
        .iter()
        .map(|rho_d| Point::from_ristretto(J.as_ristretto() * rho_d))
        .collect();
    let xi = challenge_from(
        statement_transcript(ring, &U, J.as_bytes(), context, None),
        &A,
        &B,
        &C,
        &D,
        &X,
        &Y,
        &[],
    );
    let mut f = Vec::with_capacity(m * (n - 1));
    for j in 0..m {
        for i in 1..n {
            f.push(sigma[j * n + i] * xi + a[j * n + i]);
        }
    }
    let mut power = Scalar::ONE;
    let mut rho_sum = Scalar::ZERO;
    for rho_d in &rho {
        rho_sum += rho_d * power;
        power *= xi;
    }
    Ok(Signature {
        parameters: p,
        J,
        A,
        B,
        C,
        D,
        X,
        Y,
        f,
        z_A: *r_A + xi * *r_B,
        z_C: xi * *r_C + *r_D,
        z: **r * power - rho_sum,
        disclosure: None,
    })
}
