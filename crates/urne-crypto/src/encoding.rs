//! Canonical byte encodings and their strict decoders (spec/02-encodings.md).
//!
//! Every value has exactly one encoding. Decoders reject anything else with a
//! [`DecodeError`] that names the field and what was wrong; they never panic.

use core::fmt;

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::{Identity, IsIdentity};

/// What was wrong with an encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input has the wrong number of bytes.
    WrongLength {
        /// Bytes required.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// The bytes are not the canonical encoding of any ristretto255 element
    /// (RFC 9496 §4.3.1 decoding failed).
    NonCanonicalPoint,
    /// The 32 bytes encode an integer ≥ ℓ.
    NonCanonicalScalar,
    /// The identity element where the protocol forbids it.
    IdentityPoint,
    /// Not lowercase hexadecimal with an even number of digits; `index` is the
    /// offending character position.
    BadHex {
        /// Character position of the first bad digit (or the length, if odd).
        index: usize,
    },
    /// A leading version byte this implementation does not know.
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// Bytes left over after the last field: `expected` bytes were read of `found`.
    TrailingBytes {
        /// Length of the encoding without the extra bytes.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// A length field or count outside the allowed bounds.
    OutOfBounds {
        /// What the bound is.
        detail: &'static str,
    },
}

/// A decoding failure: which field, and what was wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    field: String,
    kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(field: impl Into<String>, kind: DecodeErrorKind) -> Self {
        Self {
            field: field.into(),
            kind,
        }
    }

    /// The field at fault, as a path (`branches[1].z`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// Prefixes the field path with the enclosing field's name.
    pub fn within(mut self, outer: &str) -> Self {
        self.field = if self.field.is_empty() {
            outer.to_owned()
        } else {
            format!("{outer}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.kind {
            DecodeErrorKind::WrongLength { expected, found } => {
                format!("expected {expected} bytes, found {found}")
            }
            DecodeErrorKind::NonCanonicalPoint => {
                "not a canonical ristretto255 encoding".to_owned()
            }
            DecodeErrorKind::NonCanonicalScalar => {
                "scalar is not canonical (must be < ℓ)".to_owned()
            }
            DecodeErrorKind::IdentityPoint => "the identity element is not allowed here".to_owned(),
            DecodeErrorKind::BadHex { index } => {
                format!("not lowercase hexadecimal (character {index})")
            }
            DecodeErrorKind::UnsupportedVersion { found } => {
                format!("unsupported encoding version {found}")
            }
            DecodeErrorKind::TrailingBytes { expected, found } => {
                format!("{} trailing bytes after {expected}", found - expected)
            }
            DecodeErrorKind::OutOfBounds { detail } => format!("out of bounds: {detail}"),
        };
        if self.field.is_empty() {
            f.write_str(&what)
        } else {
            write!(f, "field `{}`: {what}", self.field)
        }
    }
}

impl std::error::Error for DecodeError {}

/// Lowercase hexadecimal, the JSON form of every byte string (spec/02-encodings.md §2.4).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

/// Strict hexadecimal decoding: lowercase digits only, even length, so that every
/// byte string has exactly one hex form.
pub fn from_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let raw = text.as_bytes();
    if !raw.len().is_multiple_of(2) {
        return Err(DecodeError::new(
            "",
            DecodeErrorKind::BadHex { index: raw.len() },
        ));
    }
    let mut out = Vec::with_capacity(raw.len() / 2);
    for (pair_index, pair) in raw.chunks_exact(2).enumerate() {
        let hi = digit(pair[0]).ok_or_else(|| {
            DecodeError::new(
                "",
                DecodeErrorKind::BadHex {
                    index: 2 * pair_index,
                },
            )
        })?;
        let lo = digit(pair[1]).ok_or_else(|| {
            DecodeError::new(
                "",
                DecodeErrorKind::BadHex {
                    index: 2 * pair_index + 1,
                },
            )
        })?;
        out.push((hi << 4) | lo);
    }
    Ok(out)
}

fn exact_32(bytes: &[u8]) -> Result<[u8; 32], DecodeError> {
    bytes.try_into().map_err(|_| {
        DecodeError::new(
            "",
            DecodeErrorKind::WrongLength {
                expected: 32,
                found: bytes.len(),
            },
        )
    })
}

/// A ristretto255 group element together with its canonical 32-byte encoding.
///
/// Carrying the encoding avoids recompressing a point every time it enters a
/// transcript; both are fixed when the value is made, so they cannot disagree.
#[derive(Clone, Copy)]
pub struct Point {
    point: RistrettoPoint,
    encoding: [u8; 32],
}

impl Point {
    /// The identity element.
    pub fn identity() -> Self {
        Self {
            point: RistrettoPoint::identity(),
            encoding: [0u8; 32],
        }
    }

    /// Wraps a computed point, compressing it once.
    pub fn from_ristretto(point: RistrettoPoint) -> Self {
        Self {
            encoding: point.compress().to_bytes(),
            point,
        }
    }

    /// Decodes a canonical encoding (RFC 9496 §4.3.1); the identity is accepted.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let encoding = exact_32(bytes)?;
        let point = CompressedRistretto(encoding)
            .decompress()
            .ok_or_else(|| DecodeError::new("", DecodeErrorKind::NonCanonicalPoint))?;
        Ok(Self { point, encoding })
    }

    /// Decodes a canonical encoding and rejects the identity.
    pub fn decode_non_identity(bytes: &[u8]) -> Result<Self, DecodeError> {
        let point = Self::decode(bytes)?;
        if point.is_identity() {
            return Err(DecodeError::new("", DecodeErrorKind::IdentityPoint));
        }
        Ok(point)
    }

    /// Decodes from lowercase hex (the JSON form).
    pub fn from_hex(text: &str) -> Result<Self, DecodeError> {
        Self::decode(&from_hex(text)?)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.encoding
    }

    /// The canonical encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.encoding
    }

    /// The group element.
    pub fn as_ristretto(&self) -> &RistrettoPoint {
        &self.point
    }

    /// True for the identity element (its encoding is all zeros).
    pub fn is_identity(&self) -> bool {
        self.point.is_identity()
    }

    /// Lowercase hex of the encoding.
    pub fn to_hex(&self) -> String {
        to_hex(&self.encoding)
    }
}

impl PartialEq for Point {
    // Encodings are canonical, so equal encodings ⇔ equal elements.
    fn eq(&self, other: &Self) -> bool {
        self.encoding == other.encoding
    }
}
impl Eq for Point {}

impl core::hash::Hash for Point {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.encoding.hash(state);
    }
}

/// Wiped to the identity (its encoding all zeros) through writes the compiler keeps: a
/// public value the holder wants gone before its memory is freed (spec/60 §60.1).
impl zeroize::Zeroize for Point {
    fn zeroize(&mut self) {
        // dalek resets a point to the identity, whose encoding is all zeros.
        self.point.zeroize();
        self.encoding.zeroize();
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point({})", self.to_hex())
    }
}

impl From<RistrettoPoint> for Point {
    fn from(point: RistrettoPoint) -> Self {
        Self::from_ristretto(point)
    }
}

// Group arithmetic on public points, for the protocols above this crate (Feldman
// checks, tallies, Lagrange combinations of shares). Each result is compressed once to
// carry its encoding, which costs an inversion: sums of many points belong in
// `CiphertextSum` or a batch, not in a loop of `+`.
impl core::ops::Add for Point {
    type Output = Point;
    fn add(self, other: Point) -> Point {
        Point::from_ristretto(self.point + other.point)
    }
}

impl core::ops::Sub for Point {
    type Output = Point;
    fn sub(self, other: Point) -> Point {
        Point::from_ristretto(self.point - other.point)
    }
}

impl core::ops::Neg for Point {
    type Output = Point;
    fn neg(self) -> Point {
        Point::from_ristretto(-self.point)
    }
}

impl core::ops::Mul<Scalar> for Point {
    type Output = Point;
    fn mul(self, scalar: Scalar) -> Point {
        Point::from_ristretto(self.point * scalar.0)
    }
}

impl core::ops::Mul<Point> for Scalar {
    type Output = Point;
    fn mul(self, point: Point) -> Point {
        point * self
    }
}

impl core::iter::Sum for Point {
    fn sum<I: Iterator<Item = Point>>(iter: I) -> Point {
        let total: RistrettoPoint = iter.map(|p| p.point).sum();
        Point::from_ristretto(total)
    }
}

/// A public scalar modulo ℓ (challenges, responses): 32 bytes, little-endian, canonical.
///
/// Secret scalars are never of this type: see [`crate::SecretScalar`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Scalar(pub(crate) DalekScalar);

impl Scalar {
    /// Zero.
    pub const ZERO: Self = Self(DalekScalar::ZERO);

    /// Decodes a canonical encoding (an integer < ℓ, little-endian).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let encoding = exact_32(bytes)?;
        Option::<DalekScalar>::from(DalekScalar::from_canonical_bytes(encoding))
            .map(Self)
            .ok_or_else(|| DecodeError::new("", DecodeErrorKind::NonCanonicalScalar))
    }

    /// Decodes from lowercase hex (the JSON form).
    pub fn from_hex(text: &str) -> Result<Self, DecodeError> {
        Self::decode(&from_hex(text)?)
    }

    /// Wraps a dalek scalar.
    pub fn from_dalek(scalar: DalekScalar) -> Self {
        Self(scalar)
    }

    /// The integer `value` as a scalar.
    pub fn from_u64(value: u64) -> Self {
        Self(DalekScalar::from(value))
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The dalek scalar.
    pub fn as_dalek(&self) -> &DalekScalar {
        &self.0
    }

    /// Lowercase hex of the encoding.
    pub fn to_hex(&self) -> String {
        to_hex(self.0.as_bytes())
    }
}

impl core::ops::Add for Scalar {
    type Output = Scalar;
    fn add(self, other: Scalar) -> Scalar {
        Scalar(self.0 + other.0)
    }
}

impl core::ops::Sub for Scalar {
    type Output = Scalar;
    fn sub(self, other: Scalar) -> Scalar {
        Scalar(self.0 - other.0)
    }
}

impl core::ops::Mul for Scalar {
    type Output = Scalar;
    fn mul(self, other: Scalar) -> Scalar {
        Scalar(self.0 * other.0)
    }
}

impl core::ops::Neg for Scalar {
    type Output = Scalar;
    fn neg(self) -> Scalar {
        Scalar(-self.0)
    }
}

impl core::iter::Sum for Scalar {
    fn sum<I: Iterator<Item = Scalar>>(iter: I) -> Scalar {
        Scalar(iter.map(|s| s.0).sum())
    }
}

impl Scalar {
    /// One.
    pub const ONE: Self = Self(DalekScalar::ONE);

    /// The inverse, or None for zero (a Lagrange coefficient's denominator).
    pub fn invert(&self) -> Option<Scalar> {
        (self.0 != DalekScalar::ZERO).then(|| Scalar(self.0.invert()))
    }
}

/// Wiped to zero through writes the compiler keeps (see `Point`'s).
impl zeroize::Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scalar({})", self.to_hex())
    }
}

/// A field's name for error messages, built only when an error is reported: decoding
/// a valid proof formats no strings.
pub(crate) trait FieldName {
    fn field_name(self) -> String;
}

impl FieldName for &str {
    fn field_name(self) -> String {
        self.to_owned()
    }
}

impl<F: FnOnce() -> String> FieldName for F {
    fn field_name(self) -> String {
        self()
    }
}

/// Reads fixed-size fields off the front of a byte string, naming each field in
/// its errors, and insists at the end that nothing is left over.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    total: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            total: bytes.len(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeErrorKind> {
        if self.rest.len() < n {
            return Err(DecodeErrorKind::WrongLength {
                expected: self.total - self.rest.len() + n,
                found: self.total,
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn version(
        &mut self,
        field: impl FieldName,
        expected: u8,
    ) -> Result<(), DecodeError> {
        let found = match self.take(1) {
            Ok(byte) => byte[0],
            Err(kind) => return Err(DecodeError::new(field.field_name(), kind)),
        };
        if found != expected {
            return Err(DecodeError::new(
                field.field_name(),
                DecodeErrorKind::UnsupportedVersion { found },
            ));
        }
        Ok(())
    }

    fn field<T>(
        &mut self,
        field: impl FieldName,
        decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        match self.take(32) {
            Ok(bytes) => decode(bytes).map_err(|e| e.within(&field.field_name())),
            Err(kind) => Err(DecodeError::new(field.field_name(), kind)),
        }
    }

    pub(crate) fn point(&mut self, field: impl FieldName) -> Result<Point, DecodeError> {
        self.field(field, Point::decode)
    }

    pub(crate) fn point_non_identity(
        &mut self,
        field: impl FieldName,
    ) -> Result<Point, DecodeError> {
        self.field(field, Point::decode_non_identity)
    }

    pub(crate) fn scalar(&mut self, field: impl FieldName) -> Result<Scalar, DecodeError> {
        self.field(field, Scalar::decode)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Refuses leftover bytes, naming the field `trailing` (spec/02-encodings.md §2.6).
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::new(
                "trailing",
                DecodeErrorKind::TrailingBytes {
                    expected: self.total - self.rest.len(),
                    found: self.total,
                },
            ))
        }
    }
}

/// Implements the JSON form (a lowercase hex string of the canonical bytes) through
/// `to_bytes`/`decode`, so that JSON and bytes can never disagree.
macro_rules! hex_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&$crate::encoding::to_hex(&self.to_bytes()))
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text =
                    <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                let bytes = $crate::encoding::from_hex(&text).map_err(serde::de::Error::custom)?;
                <$ty>::decode(&bytes).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use hex_serde;

hex_serde!(Point);
hex_serde!(Scalar);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_uppercase_odd_and_non_hex() {
        assert_eq!(from_hex("00ff10").unwrap(), vec![0, 255, 16]);
        assert_eq!(to_hex(&[0, 255, 16]), "00ff10");
        assert_eq!(
            from_hex("0F").unwrap_err().kind(),
            &DecodeErrorKind::BadHex { index: 1 }
        );
        assert_eq!(
            from_hex("abc").unwrap_err().kind(),
            &DecodeErrorKind::BadHex { index: 3 }
        );
        assert_eq!(
            from_hex("zz").unwrap_err().kind(),
            &DecodeErrorKind::BadHex { index: 0 }
        );
    }

    #[test]
    fn scalar_decoding_rejects_l_and_above() {
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let mut l = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        assert_eq!(
            Scalar::decode(&l).unwrap_err().kind(),
            &DecodeErrorKind::NonCanonicalScalar
        );
        l[0] -= 1; // ℓ − 1 is the largest canonical scalar.
        assert!(Scalar::decode(&l).is_ok());
        assert!(Scalar::decode(&[0xff; 32]).is_err());
        assert_eq!(
            Scalar::decode(&[0; 31]).unwrap_err().kind(),
            &DecodeErrorKind::WrongLength {
                expected: 32,
                found: 31
            }
        );
    }

    #[test]
    fn identity_is_rejected_only_where_asked() {
        assert!(Point::decode(&[0; 32]).unwrap().is_identity());
        assert_eq!(
            Point::decode_non_identity(&[0; 32]).unwrap_err().kind(),
            &DecodeErrorKind::IdentityPoint
        );
    }

    #[test]
    fn reader_names_the_field_and_rejects_trailing_bytes() {
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&[0xff; 32]);
        let mut reader = Reader::new(&bytes);
        reader.version("version", 1).unwrap();
        let err = reader.scalar("z").unwrap_err();
        assert_eq!(err.field(), "z");
        assert_eq!(
            err.to_string(),
            "field `z`: scalar is not canonical (must be < ℓ)"
        );

        let mut reader = Reader::new(&[1, 2]);
        reader.version("version", 1).unwrap();
        let err = reader.finish().unwrap_err();
        assert_eq!(err.field(), "trailing");
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::TrailingBytes {
                expected: 1,
                found: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "field `trailing`: 1 trailing bytes after 1"
        );
    }

    #[test]
    fn public_arithmetic_agrees_with_the_group() {
        let g = Point::from_ristretto(curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT);
        let two = Scalar::from_u64(2);
        let three = Scalar::from_u64(3);
        assert_eq!(g * (two + three), g * two + g * three);
        assert_eq!(three * g - g * two, g);
        assert_eq!(-(g * two) + g * two, Point::identity());
        assert_eq!(two * three - three, three);
        assert_eq!(-three + three, Scalar::ZERO);
        assert_eq!(
            [two, three].into_iter().sum::<Scalar>(),
            Scalar::from_u64(5)
        );
        assert_eq!(three.invert().map(|i| i * three), Some(Scalar::ONE));
        assert_eq!(Scalar::ZERO.invert(), None);
    }

    #[test]
    fn json_form_is_the_hex_of_the_bytes() {
        let p = Point::from_ristretto(curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            "\"e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76\""
        );
        assert_eq!(serde_json::from_str::<Point>(&json).unwrap(), p);
        assert!(serde_json::from_str::<Point>("\"E2F2\"").is_err());
    }
}
