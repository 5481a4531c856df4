//! Exponential ElGamal under a joint public key K (spec/05-elgamal.md).
//!
//! Enc(m; r) = (α, β) = (r·G, m·G + r·K). Adding ciphertexts adds messages, which is
//! how a tally is computed without decrypting any ballot.

use core::fmt;
use core::ops::{Add, Sub};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::encoding::{DecodeError, Point, Reader, Scalar, hex_serde};
use crate::secret::SecretScalar;

/// An ElGamal secret key (a trustee's share, or a whole key in tests).
#[derive(Debug)]
pub struct SecretKey(SecretScalar);

impl SecretKey {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(SecretScalar::random(rng))
    }

    /// Wraps a secret scalar.
    pub fn from_secret(secret: SecretScalar) -> Self {
        Self(secret)
    }

    /// The secret scalar.
    pub fn secret(&self) -> &SecretScalar {
        &self.0
    }

    /// K = s·G.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(Point::from_ristretto(
            RISTRETTO_BASEPOINT_TABLE * self.0.expose_secret(),
        ))
    }

    /// The partial decryption s·α of a ciphertext (constant time in s).
    pub fn partial_decrypt(&self, ciphertext: &Ciphertext) -> Point {
        Point::from_ristretto(ciphertext.alpha.as_ristretto() * self.0.expose_secret())
    }

    /// m·G = β − s·α. The message itself needs a discrete log ([`crate::dlog`]).
    pub fn decrypt_to_point(&self, ciphertext: &Ciphertext) -> RistrettoPoint {
        ciphertext.beta.as_ristretto() - ciphertext.alpha.as_ristretto() * self.0.expose_secret()
    }
}

/// An ElGamal public key K; never the identity (encrypting under it would be public).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicKey(Point);

impl PublicKey {
    /// Wraps a point; the identity is refused.
    pub fn from_point(point: Point) -> Result<Self, DecodeError> {
        if point.is_identity() {
            return Err(DecodeError::new(
                "",
                crate::encoding::DecodeErrorKind::IdentityPoint,
            ));
        }
        Ok(Self(point))
    }

    /// Decodes a canonical, non-identity encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Point::decode_non_identity(bytes).map(Self)
    }

    /// The encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The point K.
    pub fn point(&self) -> &Point {
        &self.0
    }
}

hex_serde!(PublicKey);

/// A public key with a fixed-base table for fast constant-time encryption.
pub struct EncryptionKey {
    key: PublicKey,
    table: Box<RistrettoBasepointTable>,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncryptionKey").field(&self.key).finish()
    }
}

impl EncryptionKey {
    /// Precomputes the table for K (about 30 KiB; build once per election).
    pub fn new(key: PublicKey) -> Self {
        Self {
            table: Box::new(RistrettoBasepointTable::create(key.0.as_ristretto())),
            key,
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// x·K in constant time.
    pub(crate) fn mul_key(&self, scalar: &DalekScalar) -> RistrettoPoint {
        &*self.table * scalar
    }

    /// Enc(m; r) with an explicit nonce r (spec/05-elgamal.md §5.2).
    pub fn encrypt_with_nonce(&self, message: &SecretScalar, nonce: &SecretScalar) -> Ciphertext {
        let r = nonce.expose_secret();
        let alpha = RISTRETTO_BASEPOINT_TABLE * r;
        let beta = RISTRETTO_BASEPOINT_TABLE * message.expose_secret() + self.mul_key(r);
        Ciphertext::from_points(alpha, beta)
    }

    /// Enc(m; r) with a fresh nonce; the opening (m, r) is returned for proofs and
    /// audits.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        message: u64,
        rng: &mut R,
    ) -> (Ciphertext, Opening) {
        let opening = Opening::new(message, SecretScalar::random(rng));
        (self.encrypt_opening(&opening), opening)
    }

    /// The ciphertext an opening describes.
    pub fn encrypt_opening(&self, opening: &Opening) -> Ciphertext {
        self.encrypt_with_nonce(&SecretScalar::from_u64(opening.message()), &opening.nonce)
    }
}

/// What opens a ciphertext: its message m and nonce r. Secret until a voter chooses to
/// reveal it (a Benaloh audit); not `Clone`, `Debug` shows nothing, and both m (the
/// vote) and r are wiped on drop.
pub struct Opening {
    message: Zeroizing<u64>,
    nonce: SecretScalar,
}

impl Opening {
    /// The opening (m, r).
    pub fn new(message: u64, nonce: SecretScalar) -> Self {
        Self {
            message: Zeroizing::new(message),
            nonce,
        }
    }

    /// m.
    pub fn message(&self) -> u64 {
        *self.message
    }

    /// r.
    pub fn nonce(&self) -> &SecretScalar {
        &self.nonce
    }
}

/// Both fields are `Zeroizing` (the message) or zeroize themselves (the nonce).
impl zeroize::ZeroizeOnDrop for Opening {}

impl fmt::Debug for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Opening(<redacted>)")
    }
}

/// An ElGamal ciphertext (α, β); 64 bytes: α ‖ β.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ciphertext {
    alpha: Point,
    beta: Point,
}

impl Ciphertext {
    /// Length of the encoding.
    pub const LEN: usize = 64;

    /// A ciphertext from its two components.
    pub fn new(alpha: Point, beta: Point) -> Self {
        Self { alpha, beta }
    }

    pub(crate) fn from_points(alpha: RistrettoPoint, beta: RistrettoPoint) -> Self {
        Self {
            alpha: Point::from_ristretto(alpha),
            beta: Point::from_ristretto(beta),
        }
    }

    /// Enc(0; 0) = (identity, identity): the neutral element of addition.
    pub fn zero() -> Self {
        Self {
            alpha: Point::identity(),
            beta: Point::identity(),
        }
    }

    /// α = r·G.
    pub fn alpha(&self) -> &Point {
        &self.alpha
    }

    /// β = m·G + r·K.
    pub fn beta(&self) -> &Point {
        &self.beta
    }

    /// Decodes α ‖ β; both must be canonical (either may be the identity, as in the
    /// homomorphic sum of no ballots).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let alpha = reader.point("alpha")?;
        let beta = reader.point("beta")?;
        reader.finish()?;
        Ok(Self { alpha, beta })
    }

    /// α ‖ β.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(self.alpha.as_bytes());
        out[32..].copy_from_slice(self.beta.as_bytes());
        out
    }

    /// k·(α, β): encrypts k·m under nonce k·r.
    pub fn scale(&self, k: &Scalar) -> Self {
        Self::from_points(
            self.alpha.as_ristretto() * k.as_dalek(),
            self.beta.as_ristretto() * k.as_dalek(),
        )
    }

    /// Re-encrypts with an additional nonce: same message, unlinkable ciphertext.
    pub fn rerandomize(&self, key: &EncryptionKey, nonce: &SecretScalar) -> Self {
        let r = nonce.expose_secret();
        Self::from_points(
            self.alpha.as_ristretto() + RISTRETTO_BASEPOINT_TABLE * r,
            self.beta.as_ristretto() + key.mul_key(r),
        )
    }
}

hex_serde!(Ciphertext);

impl Add for &Ciphertext {
    type Output = Ciphertext;
    fn add(self, other: &Ciphertext) -> Ciphertext {
        Ciphertext::from_points(
            self.alpha.as_ristretto() + other.alpha.as_ristretto(),
            self.beta.as_ristretto() + other.beta.as_ristretto(),
        )
    }
}

impl Sub for &Ciphertext {
    type Output = Ciphertext;
    fn sub(self, other: &Ciphertext) -> Ciphertext {
        Ciphertext::from_points(
            self.alpha.as_ristretto() - other.alpha.as_ristretto(),
            self.beta.as_ristretto() - other.beta.as_ristretto(),
        )
    }
}

/// Sums many ciphertexts without compressing after every addition (a tally adds
/// millions; compressing costs an inversion).
#[derive(Clone, Debug)]
pub struct CiphertextSum {
    alpha: RistrettoPoint,
    beta: RistrettoPoint,
    count: u64,
}

impl Default for CiphertextSum {
    fn default() -> Self {
        Self {
            alpha: RistrettoPoint::identity(),
            beta: RistrettoPoint::identity(),
            count: 0,
        }
    }
}

impl CiphertextSum {
    /// Adds one ciphertext.
    pub fn add(&mut self, ciphertext: &Ciphertext) {
        self.alpha += ciphertext.alpha.as_ristretto();
        self.beta += ciphertext.beta.as_ristretto();
        self.count += 1;
    }

    /// How many ciphertexts were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum, encoded.
    pub fn finish(&self) -> Ciphertext {
        Ciphertext::from_points(self.alpha, self.beta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlog::DiscreteLogTable;

    #[test]
    fn encryption_is_additively_homomorphic() {
        let mut rng = rand::rng();
        let secret = SecretKey::generate(&mut rng);
        let key = EncryptionKey::new(secret.public_key());
        let mut sum = CiphertextSum::default();
        for m in [0u64, 1, 1, 5, 0, 3] {
            sum.add(&key.encrypt(m, &mut rng).0);
        }
        let total = sum.finish();
        let table = DiscreteLogTable::new(100).unwrap();
        assert_eq!(table.solve(&secret.decrypt_to_point(&total)), Some(10));

        let (c1, _) = key.encrypt(7, &mut rng);
        let (c2, _) = key.encrypt(2, &mut rng);
        assert_eq!(table.solve(&secret.decrypt_to_point(&(&c1 - &c2))), Some(5));
        assert_eq!(
            table.solve(&secret.decrypt_to_point(&c1.scale(&Scalar::from_u64(3)))),
            Some(21)
        );
        let rerandomized = c1.rerandomize(&key, &SecretScalar::random(&mut rng));
        assert_ne!(rerandomized, c1);
        assert_eq!(
            table.solve(&secret.decrypt_to_point(&rerandomized)),
            Some(7)
        );
    }

    #[test]
    fn partial_decryption_is_s_alpha() {
        let mut rng = rand::rng();
        let secret = SecretKey::generate(&mut rng);
        let key = EncryptionKey::new(secret.public_key());
        let (c, _) = key.encrypt(4, &mut rng);
        let share = secret.partial_decrypt(&c);
        let m_g = c.beta().as_ristretto() - share.as_ristretto();
        assert_eq!(m_g, RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(4u64));
    }

    #[test]
    fn openings_and_secrets_wipe_themselves_on_drop() {
        fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wipes_on_drop::<Opening>();
        wipes_on_drop::<SecretScalar>();
        wipes_on_drop::<Zeroizing<u64>>();
    }

    #[test]
    fn ciphertext_decoding_is_strict() {
        let mut rng = rand::rng();
        let key = EncryptionKey::new(SecretKey::generate(&mut rng).public_key());
        let (c, _) = key.encrypt(1, &mut rng);
        let bytes = c.to_bytes();
        assert_eq!(Ciphertext::decode(&bytes).unwrap(), c);
        assert!(Ciphertext::decode(&bytes[..63]).is_err());
        let mut long = bytes.to_vec();
        long.push(0);
        assert!(Ciphertext::decode(&long).is_err());
        let mut bad = bytes;
        bad[32] = 0x01; // a negative field element: never canonical
        bad[33..].fill(0);
        assert_eq!(Ciphertext::decode(&bad).unwrap_err().field(), "beta");
        assert!(PublicKey::decode(&[0u8; 32]).is_err());
    }
}
