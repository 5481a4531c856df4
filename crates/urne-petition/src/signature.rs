//! The one place this crate calls the ring signature (urne-crypto's Triptych, spec/08):
//! rings from buckets, the linking base, the context bytes every signature binds
//! (spec/32 §32.5), signing, verifying one, verifying a batch over one bucket.

use curve25519_dalek::ristretto::RistrettoPoint;
use rand_core::CryptoRng;
use urne_crypto::triptych::{self, BatchVerifier, Parameters, Ring};
use urne_crypto::{Point, SecretScalar};
use zeroize::Zeroizing;

use crate::error::PetitionError;

/// A bucket's ring, prepared once (keys decoded, digest hashed).
#[derive(Clone, Debug)]
pub struct BucketRing(Ring);

impl BucketRing {
    /// The ring of a bucket's points (spec/31 §31.6).
    pub fn new(points: &[Point]) -> Result<Self, PetitionError> {
        Ring::new(points.iter().map(|p| *p.as_ristretto()).collect())
            .map(Self)
            .map_err(|e| PetitionError::invalid("bucket", e.to_string()))
    }

    fn parameters(&self) -> Result<Parameters, PetitionError> {
        Parameters::for_ring_size(self.0.len())
            .map_err(|e| PetitionError::invalid("bucket", e.to_string()))
    }
}

/// U = linking base of (snapshot id, petition context id): one tag per key per petition.
pub fn linking_base(snapshot: &[u8; 32], context: &[u8; 32]) -> RistrettoPoint {
    triptych::linking_base(snapshot, context)
}

/// What a signature or withdrawal that discloses nothing binds (spec/32 §32.5): label ‖
/// petition context id ‖ snapshot id ‖ bucket ‖ text hash ‖ 0x00 ‖ the record's one-time
/// signer key.
pub fn context_bytes(
    label: &[u8],
    context: &[u8; 32],
    snapshot: &[u8; 32],
    bucket: u32,
    text_hash: &[u8; 32],
    signer: &[u8; 32],
) -> Vec<u8> {
    context_bytes_disclosing(label, context, snapshot, bucket, text_hash, None, signer)
}

/// As [`context_bytes`], with the disclosure as the body carries it: 0x00, or 0x01 ‖
/// district (u32 BE).
pub fn context_bytes_disclosing(
    label: &[u8],
    context: &[u8; 32],
    snapshot: &[u8; 32],
    bucket: u32,
    text_hash: &[u8; 32],
    disclosed: Option<u32>,
    signer: &[u8; 32],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() + 32 * 4 + 9);
    out.extend_from_slice(label);
    out.extend_from_slice(context);
    out.extend_from_slice(snapshot);
    out.extend_from_slice(&bucket.to_be_bytes());
    out.extend_from_slice(text_hash);
    match disclosed {
        None => out.push(0),
        Some(district) => {
            out.push(1);
            out.extend_from_slice(&district.to_be_bytes());
        }
    }
    out.extend_from_slice(signer);
    out
}

/// The generator of a district, Q of spec/08 §8.12 (spec/30 §30.2's G_d).
fn district_base(district: u32) -> RistrettoPoint {
    *urne_credential::wallet::district_generator(district).as_ristretto()
}

/// A decoded ring signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingSignature(triptych::Signature);

impl RingSignature {
    /// Decodes strictly against the ring it claims to be over.
    pub fn decode(bytes: &[u8], ring: &BucketRing) -> Result<Self, PetitionError> {
        triptych::Signature::from_bytes(bytes, ring.parameters()?)
            .map(Self)
            .map_err(|e| PetitionError::invalid("body.signature", e.to_string()))
    }

    /// Decodes strictly a signature that discloses an attribute (spec/08 §8.12).
    pub fn decode_disclosing(bytes: &[u8], ring: &BucketRing) -> Result<Self, PetitionError> {
        triptych::Signature::from_bytes_disclosing(bytes, ring.parameters()?)
            .map(Self)
            .map_err(|e| PetitionError::invalid("body.signature", e.to_string()))
    }

    /// Its tag J.
    pub fn tag(&self) -> [u8; 32] {
        self.0.tag().to_bytes()
    }

    /// Encodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }
}

/// Signs as the holder of ring key `index`.
pub fn sign<R: CryptoRng + ?Sized>(
    ring: &BucketRing,
    index: usize,
    secret: &SecretScalar,
    linking_base: &RistrettoPoint,
    context: &[u8],
    rng: &mut R,
) -> Result<RingSignature, PetitionError> {
    let secret = Zeroizing::new(*secret.expose_secret());
    triptych::sign(&ring.0, index, &secret, linking_base, context, rng)
        .map(RingSignature)
        .map_err(|e| PetitionError::invalid("signature", e.to_string()))
}

/// Signs as the holder of ring key `index`, disclosing its district: `commitments` is the
/// bucket's attribute ring, `blinding` the wallet's district blinding (spec/08 §8.12).
#[allow(clippy::too_many_arguments)]
pub fn sign_disclosing<R: CryptoRng + ?Sized>(
    ring: &BucketRing,
    commitments: &BucketRing,
    index: usize,
    secret: &SecretScalar,
    blinding: &SecretScalar,
    district: u32,
    linking_base: &RistrettoPoint,
    context: &[u8],
    rng: &mut R,
) -> Result<RingSignature, PetitionError> {
    let secret = Zeroizing::new(*secret.expose_secret());
    let blinding = Zeroizing::new(*blinding.expose_secret());
    let attribute = triptych::Attribute {
        commitments: &commitments.0,
        base: district_base(district),
    };
    triptych::sign_disclosing(
        &ring.0,
        &attribute,
        index,
        &secret,
        &blinding,
        linking_base,
        context,
        rng,
    )
    .map(RingSignature)
    .map_err(|e| PetitionError::invalid("signature", e.to_string()))
}

/// Verifies one signature that discloses `district` over the bucket's attribute ring.
pub fn verify_disclosing(
    ring: &BucketRing,
    commitments: &BucketRing,
    district: u32,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &RingSignature,
) -> Result<(), PetitionError> {
    let attribute = triptych::Attribute {
        commitments: &commitments.0,
        base: district_base(district),
    };
    triptych::verify_disclosing(&ring.0, &attribute, linking_base, context, &signature.0)
        .map_err(|e| PetitionError::invalid("body.signature", e.to_string()))
}

/// Verifies one signature.
pub fn verify(
    ring: &BucketRing,
    linking_base: &RistrettoPoint,
    context: &[u8],
    signature: &RingSignature,
) -> Result<(), PetitionError> {
    triptych::verify(&ring.0, linking_base, context, &signature.0)
        .map_err(|e| PetitionError::invalid("body.signature", e.to_string()))
}

/// Verifies many signatures over one bucket in one batch, each (context, signature,
/// district disclosed); `commitments` is the bucket's attribute ring, needed if any
/// discloses. On failure, the positions (in `items` order) of every failing one, with why.
pub fn verify_batch<R: CryptoRng + ?Sized>(
    ring: &BucketRing,
    commitments: Option<&BucketRing>,
    linking_base: &RistrettoPoint,
    items: &[(Vec<u8>, &RingSignature, Option<u32>)],
    rng: &mut R,
) -> Result<(), Vec<(usize, String)>> {
    let mut batch = match commitments {
        Some(c) => BatchVerifier::with_commitments(&ring.0, &c.0, *linking_base),
        None => BatchVerifier::new(&ring.0, *linking_base),
    };
    for (context, signature, disclosed) in items {
        match disclosed {
            Some(district) => {
                batch.push_disclosing(context, &signature.0, district_base(*district))
            }
            None => batch.push(context, &signature.0),
        }
    }
    match batch.verify(rng) {
        Ok(()) => Ok(()),
        Err(triptych::Error::Batch { invalid }) => Err(invalid
            .into_iter()
            .map(|(at, e)| (at, e.to_string()))
            .collect()),
        Err(e) => Err((0..items.len()).map(|at| (at, e.to_string())).collect()),
    }
}
