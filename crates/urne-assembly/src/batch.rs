//! Ed25519 batch verification of record signatures for the recount (spec/40 §40.11).
//!
//! The board checks each record with `verify_strict` and never batches (spec/12 §12.5).
//! A recount may batch, under these rules; it accepts everything the board could have
//! accepted, and beyond it only what the last paragraph says:
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

use std::collections::HashMap;

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

fn parse(item: &Item<'_>, keys: &mut HashMap<[u8; 32], Option<EdwardsPoint>>) -> Option<Parsed> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&item.signature[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&item.signature[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let r = canonical_point(&r_bytes)?;
    // A member signs many records: decompress each key once.
    let a = (*keys
        .entry(item.key)
        .or_insert_with(|| canonical_point(&item.key)))?;
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
    let mut keys = HashMap::new();
    let first_bad = |keys: &mut HashMap<_, _>| {
        items
            .iter()
            .position(|item| parse(item, keys).is_none() || !strict(item))
    };
    let parsed: Option<Vec<Parsed>> = items.iter().map(|item| parse(item, &mut keys)).collect();
    let Some(parsed) = parsed else {
        return Err(first_bad(&mut keys).unwrap_or(0));
    };
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
    match first_bad(&mut keys) {
        Some(i) => Err(i),
        // The batch refused what verify_strict accepts (a torsion component the
        // cofactor did not clear cannot happen; kept total): accept, as the board would.
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn signed(n: u8) -> Vec<(Vec<u8>, [u8; 32], [u8; 64])> {
        (0..n)
            .map(|i| {
                let key = SigningKey::from_bytes(&[i + 1; 32]);
                let message = vec![i; 40];
                let signature = key.sign(&message).to_bytes();
                (message, key.verifying_key().to_bytes(), signature)
            })
            .collect()
    }

    fn items(all: &[(Vec<u8>, [u8; 32], [u8; 64])]) -> Vec<Item<'_>> {
        all.iter()
            .map(|(message, key, signature)| Item {
                message,
                key: *key,
                signature: *signature,
            })
            .collect()
    }

    #[test]
    fn valid_signatures_pass_the_batch() {
        assert_eq!(verify(&items(&signed(20))), Ok(()));
    }

    #[test]
    fn a_bad_signature_fails_the_batch_and_is_named_by_verify_strict() {
        let mut all = signed(20);
        all[13].0[0] ^= 1;
        all[17].2[5] ^= 1;
        assert_eq!(verify(&items(&all)), Err(13));
    }

    #[test]
    fn non_canonical_s_is_refused_before_the_batch() {
        let mut all = signed(5);
        // s + ℓ: the same scalar mod ℓ, which a cofactorless or cofactored equation
        // alone would accept.
        let s = Scalar::from_canonical_bytes(all[2].2[32..].try_into().unwrap()).unwrap();
        let ell: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut sum = [0u8; 32];
        let mut carry = 0u16;
        for (i, b) in s.to_bytes().iter().enumerate() {
            let v = u16::from(*b) + u16::from(ell[i]) + carry;
            sum[i] = v as u8;
            carry = v >> 8;
        }
        // s < ℓ < 2^253, so s + ℓ < 2^254 fits the 32 bytes.
        assert_eq!(carry, 0);
        all[2].2[32..].copy_from_slice(&sum);
        assert_eq!(verify(&items(&all)), Err(2));
    }

    #[test]
    fn small_order_r_or_key_is_refused_before_the_batch() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut all = signed(4);
        all[1].2[..32].copy_from_slice(&identity);
        assert_eq!(verify(&items(&all)), Err(1));
        let mut all = signed(4);
        all[3].1 = identity;
        assert_eq!(verify(&items(&all)), Err(3));
    }

    /// A signature by key `seed` on `message` whose R carries the 8-torsion point T:
    /// R' = rB + T, s = r + H(R' ‖ A ‖ M)·a. Only the key's holder can make it.
    fn torsioned(seed: [u8; 32], message: &[u8]) -> ([u8; 32], [u8; 64]) {
        let h = Sha512::digest(seed);
        let mut a_bytes = [0u8; 32];
        a_bytes.copy_from_slice(&h[..32]);
        a_bytes[0] &= 248;
        a_bytes[31] &= 127;
        a_bytes[31] |= 64;
        let a = Scalar::from_bytes_mod_order(a_bytes);
        let key = EdwardsPoint::mul_base(&a).compress().to_bytes();
        assert_eq!(
            key,
            SigningKey::from_bytes(&seed).verifying_key().to_bytes()
        );
        let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(b"a fixed nonce").into());
        let big_r = EdwardsPoint::mul_base(&r) + curve25519_dalek::constants::EIGHT_TORSION[1];
        let r_bytes = big_r.compress().to_bytes();
        let mut hk = Sha512::new();
        hk.update(r_bytes);
        hk.update(key);
        hk.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hk.finalize().into());
        let s = r + k * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&r_bytes);
        signature[32..].copy_from_slice(s.as_bytes());
        (key, signature)
    }

    #[test]
    fn a_torsioned_r_passes_the_batch_and_verify_strict_refuses_it() {
        let message = b"a vote".to_vec();
        let (key, signature) = torsioned([42; 32], &message);
        let item = Item {
            message: &message,
            key,
            signature,
        };
        // What spec/40 §40.11 says the batch accepts beyond verify_strict.
        assert!(!strict(&item));
        assert_eq!(verify(&[item]), Ok(()));
        // When the batch fails for another signature, the fallback runs verify_strict in
        // order, so the torsioned one, earlier, is the one named.
        let mut all = signed(3);
        all[2].0[0] ^= 1;
        let mut mixed = items(&all);
        mixed.insert(
            1,
            Item {
                message: &message,
                key,
                signature,
            },
        );
        assert_eq!(verify(&mixed), Err(1));
    }
}
