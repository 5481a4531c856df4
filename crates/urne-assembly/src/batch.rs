//! Ed25519 batch verification of record signatures for the recount (spec/40 §40.11).
//!
//! The board checks each record with `verify_strict` and never batches (spec/12 §12.5).
//! A recount may batch, under these rules, so that it accepts exactly what the board
//! could have accepted or names the first record that breaks them:
//! 1. before the batch, each signature is refused on its own if its `s` is not a
//!    canonical scalar, its `R` or the signer's key is not a canonical point encoding,
//!    or either is a point of small order — what `verify_strict` refuses outright;
//! 2. the batch equation is the cofactored one, [8]([Σzᵢsᵢ]B − Σ[zᵢ]Rᵢ − Σ[zᵢkᵢ]Aᵢ) = 0,
//!    with 128-bit weights zᵢ drawn from SHA-512 over every signature, key and message;
//! 3. if the batch fails, every signature is checked one by one with `verify_strict`
//!    to name the first bad one.
//!
//! What a passing batch accepts beyond `verify_strict`: a signature whose `R` carries a
//! torsion component and satisfies the cofactored equation. Only the holder of the
//! signing key can make one (the torsion changes `R`, hence k, hence the `s` needed), so
//! a batch pass still proves each member signed that exact record.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// One signature to verify: the message signed, the signer's key, the signature.
pub struct Item<'a> {
    /// The signed message.
    pub message: &'a [u8],
    /// The signer's key bytes.
    pub key: [u8; 32],
    /// The signature bytes.
    pub signature: [u8; 64],
}

struct Parsed {
    r: EdwardsPoint,
    a: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

fn canonical_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    let compressed = CompressedEdwardsY(*bytes);
    let point = compressed.decompress()?;
    (point.compress() == compressed && !point.is_small_order()).then_some(point)
}

fn parse(item: &Item<'_>) -> Option<Parsed> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&item.signature[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&item.signature[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let r = canonical_point(&r_bytes)?;
    let a = canonical_point(&item.key)?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(item.key);
    h.update(item.message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    Some(Parsed { r, a, s, k })
}

fn strict(item: &Item<'_>) -> bool {
    VerifyingKey::from_bytes(&item.key)
        .and_then(|key| key.verify_strict(item.message, &Signature::from_bytes(&item.signature)))
        .is_ok()
}

/// Verifies every signature; on failure, the position of the first one `verify_strict`
/// refuses (or that rule 1 refuses).
pub fn verify(items: &[Item<'_>]) -> Result<(), usize> {
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        parsed.push(parse(item).ok_or(i)?);
    }
    let mut seed = Sha512::new();
    seed.update(b"urne/v1/assembly/batch-weights\n");
    for item in items {
        seed.update(item.key);
        seed.update(item.signature);
        seed.update(Sha512::digest(item.message));
    }
    let seed: [u8; 64] = seed.finalize().into();
    let weights: Vec<Scalar> = (0..items.len() as u64)
        .map(|i| {
            let mut h = Sha512::new();
            h.update(seed);
            h.update(i.to_be_bytes());
            let wide: [u8; 64] = h.finalize().into();
            let mut z = [0u8; 32];
            z[..16].copy_from_slice(&wide[..16]);
            Scalar::from_bytes_mod_order(z)
        })
        .collect();
    let b_coefficient: Scalar = parsed.iter().zip(&weights).map(|(p, z)| z * p.s).sum();
    let scalars = std::iter::once(-b_coefficient)
        .chain(weights.iter().copied())
        .chain(parsed.iter().zip(&weights).map(|(p, z)| z * p.k));
    let points = std::iter::once(curve25519_dalek::constants::ED25519_BASEPOINT_POINT)
        .chain(parsed.iter().map(|p| p.r))
        .chain(parsed.iter().map(|p| p.a));
    // Each valid signature has sB = R + kA, so −[Σzs]B + Σ[z]R + Σ[zk]A = 0.
    let sum = EdwardsPoint::vartime_multiscalar_mul(scalars, points);
    if sum.mul_by_cofactor().is_identity() {
        return Ok(());
    }
    match items.iter().position(|item| !strict(item)) {
        Some(i) => Err(i),
        // The batch refused what verify_strict accepts (a torsion component the
        // cofactor did not clear cannot happen; kept total): accept, as the board would.
        None => Ok(()),
    }
}
