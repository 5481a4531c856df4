//! The wallet of the anonymous mode (spec/30-wallet.md): a secret r drawn on the device,
//! its public key K = r·G, optional registered attributes as Pedersen commitments, the
//! passphrase-encrypted wallet file, and the enrolment request the registrar checks.
//!
//! The secret never leaves the wallet: the enrolment request carries K and a proof of
//! knowledge of r, so a registrar cannot enrol a key its holder cannot sign with, and the
//! attribute openings, which only the wallet and the registrar ever see.

use core::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use rand_core::CryptoRng;
use urne_crypto::group::{generator_h, hash_to_group};
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::{ContextHash, Point, ProofContext, SecretScalar};
use zeroize::Zeroizing;

use crate::labels::{DISTRICT_GENERATOR, ENROLMENT, WALLET_FILE_MAGIC};
use crate::registry::{MAX_REGISTRARS, Registrars};

/// The wallet file's sealing (spec/30 §30.3), shared with the trustee's state file.
const FORMAT: urne_sealed::Format = urne_sealed::Format {
    magic: WALLET_FILE_MAGIC,
    version: 1,
    max_memory_kib: MAX_MEMORY_KIB,
};
const TAG_LEN: usize = urne_sealed::TAG_LEN;
/// Bytes of the file header: magic ‖ version ‖ memory ‖ iterations ‖ parallelism ‖ salt ‖ nonce.
pub const HEADER_LEN: usize = urne_sealed::header_len(WALLET_FILE_MAGIC.len());
const ATTRIBUTE_LEN: usize = 2 + 4 + 32;
/// The most attributes a wallet holds.
pub const MAX_ATTRIBUTES: usize = 8;
/// The longest enrolment record: flag ‖ registry id ‖ the largest registrar set.
const MAX_ENROLMENT_LEN: usize = 1 + 32 + 4 + 3 + 32 * MAX_REGISTRARS;
/// The shortest content: r ‖ attribute count ‖ enrolment flag.
const MIN_CONTENT_LEN: usize = 32 + 1 + 1;
/// The longest wallet file: every attribute present, enrolled in a registry of 255 registrars.
pub const MAX_FILE_LEN: usize =
    HEADER_LEN + 32 + 1 + MAX_ATTRIBUTES * ATTRIBUTE_LEN + MAX_ENROLMENT_LEN + TAG_LEN;
const REQUEST_VERSION: u8 = 1;

/// The largest Argon2id memory a file may ask for: 1 GiB (16 times the recommended
/// 64 MiB). The header is read before the tag can be checked, so whoever can alter the file
/// chooses this cost: it is capped before any work.
pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
pub use urne_sealed::{KdfParams, MAX_ITERATIONS, MAX_PARALLELISM};

/// Attribute code of a district (spec/30 §30.2).
pub const ATTRIBUTE_DISTRICT: u16 = 1;
/// Attribute code of an age band (spec/30 §30.2).
pub const ATTRIBUTE_AGE_BAND: u16 = 2;

/// Why a wallet file or an enrolment request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The passphrase is wrong, or the file was altered (the two are indistinguishable).
    #[error("wrong passphrase, or the wallet file was altered")]
    WrongPassphrase,
    /// Not a wallet file, or a version we do not know.
    #[error("not a urne wallet file (field `{field}`)")]
    NotAWallet {
        /// The field that gave it away.
        field: &'static str,
    },
    /// Argon2id parameters out of bounds.
    #[error("Argon2id parameter `{field}` = {value} is out of bounds")]
    BadParameters {
        /// Which parameter.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// Content that does not decode or check, with the field at fault.
    #[error("{field}: {reason}")]
    Decode {
        /// The field (`attributes[1].code`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The enrolment request's proof of knowledge of r does not verify.
    #[error("the enrolment request's proof does not verify: the key's holder did not sign it")]
    Proof,
}

fn decode_err(field: impl Into<String>, reason: impl Into<String>) -> WalletError {
    WalletError::Decode {
        field: field.into(),
        reason: reason.into(),
    }
}

impl From<urne_sealed::SealError> for WalletError {
    fn from(e: urne_sealed::SealError) -> Self {
        use urne_sealed::SealError as E;
        match e {
            E::WrongPassphrase => Self::WrongPassphrase,
            E::NotThisFormat { field } => Self::NotAWallet { field },
            E::BadParameters { field, value } => Self::BadParameters { field, value },
            _ => decode_err("wallet", "encryption failed"),
        }
    }
}

/// One registered attribute: its code, its value, and the blinding of its commitment
/// C = value·G + blinding·H (spec/30 §30.2).
pub struct Attribute {
    /// Its code (`ATTRIBUTE_DISTRICT`, …).
    pub code: u16,
    /// Its value (a district number, an age band).
    pub value: u32,
    blinding: SecretScalar,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attribute {{ code: {}, value: {}, blinding: <secret> }}",
            self.code, self.value
        )
    }
}

impl Attribute {
    /// A new attribute with a fresh blinding.
    pub fn new<R: CryptoRng + ?Sized>(code: u16, value: u32, rng: &mut R) -> Self {
        Self {
            code,
            value,
            blinding: SecretScalar::random(rng),
        }
    }

    /// The blinding b of its commitment: what a signature that discloses the attribute
    /// proves knowledge of (spec/08 §8.12). Secret.
    pub fn blinding(&self) -> &SecretScalar {
        &self.blinding
    }

    /// Its Pedersen commitment: G_value + blinding·H for a district (spec/30 §30.2),
    /// value·G + blinding·H for any other attribute.
    pub fn commitment(&self) -> Point {
        if self.code == ATTRIBUTE_DISTRICT {
            Point::from_ristretto(
                district_generator(self.value).as_ristretto()
                    + generator_h().as_ristretto() * self.blinding.expose_secret(),
            )
        } else {
            commit(self.value, &self.blinding)
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.code.to_be_bytes());
        out.extend_from_slice(&self.value.to_be_bytes());
        out.extend_from_slice(self.blinding.to_bytes().as_ref());
    }

    pub(crate) fn blinding_scalar(&self) -> &curve25519_dalek::scalar::Scalar {
        self.blinding.expose_secret()
    }

    fn duplicate(&self) -> Self {
        Self {
            code: self.code,
            value: self.value,
            blinding: self.blinding.duplicate(),
        }
    }
}

/// G_d = hash-to-group(DISTRICT_GENERATOR ‖ d (u32 BE)), a generator per district: with one
/// generator G for all, Σ C_i pins only Σ d·n_d, and moving one person 1→2 and another 3→2
/// keeps it; independent generators pin every n_d (spec/31 §31.5).
pub fn district_generator(district: u32) -> Point {
    let mut input = Vec::with_capacity(DISTRICT_GENERATOR.len() + 4);
    input.extend_from_slice(DISTRICT_GENERATOR);
    input.extend_from_slice(&district.to_be_bytes());
    hash_to_group(&input)
}

fn commit(value: u32, blinding: &SecretScalar) -> Point {
    let v = RISTRETTO_BASEPOINT_TABLE * &DalekScalar::from(u64::from(value));
    Point::from_ristretto(v + generator_h().as_ristretto() * blinding.expose_secret())
}

/// Decodes `count` attributes: codes strictly increasing (so each appears once),
/// blindings canonical.
fn decode_attributes(bytes: &[u8], field: &str) -> Result<Vec<Attribute>, WalletError> {
    let mut attributes: Vec<Attribute> = Vec::with_capacity(bytes.len() / ATTRIBUTE_LEN);
    for (i, a) in bytes.chunks_exact(ATTRIBUTE_LEN).enumerate() {
        let code = u16::from_be_bytes([a[0], a[1]]);
        if code == 0 {
            return Err(decode_err(
                format!("{field}[{i}].code"),
                "attribute code 0 is reserved",
            ));
        }
        if attributes.last().is_some_and(|prev| prev.code >= code) {
            return Err(decode_err(
                format!("{field}[{i}].code"),
                "attributes must be sorted by code, each at most once",
            ));
        }
        let value = u32::from_be_bytes([a[2], a[3], a[4], a[5]]);
        let blinding = SecretScalar::decode(&a[6..38])
            .map_err(|e| decode_err(format!("{field}[{i}].blinding"), e.to_string()))?;
        attributes.push(Attribute {
            code,
            value,
            blinding,
        });
    }
    Ok(attributes)
}

/// The registry a wallet was enrolled in, as its holder learnt it from the registrars in
/// person (spec/30 §30.3): the only registry, registrars and threshold whose snapshots the
/// wallet will sign from. A petition's author names these in its definition; a wallet that
/// trusted that naming would sign into a ring an author made of copied keys and padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The registry id (spec/31 §31.2).
    pub registry: [u8; 32],
    /// Its registrars and the cosignatures a snapshot needs.
    pub registrars: Registrars,
}

/// A wallet: the secret r, the registered attributes, and the registry it was enrolled in.
/// Not `Clone`, not printable; secrets zeroized on drop.
pub struct Wallet {
    secret: SecretScalar,
    attributes: Vec<Attribute>,
    enrolment: Option<Enrolment>,
    /// The newest snapshot number of its registry it has signed from (0: none yet).
    newest_snapshot: u32,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Wallet {{ key: {}, <secret> }}",
            self.public_key().to_hex()
        )
    }
}

impl Wallet {
    /// A new wallet: r drawn from `rng` (on the device: nobody else ever holds it), and
    /// the attributes given as (code, value), each with a fresh blinding.
    pub fn generate<R: CryptoRng + ?Sized>(
        attributes: &[(u16, u32)],
        rng: &mut R,
    ) -> Result<Self, WalletError> {
        let mut sorted = attributes.to_vec();
        sorted.sort_by_key(|a| a.0);
        if sorted.len() > MAX_ATTRIBUTES {
            return Err(decode_err(
                "attributes",
                format!("at most {MAX_ATTRIBUTES} attributes"),
            ));
        }
        for (i, pair) in sorted.windows(2).enumerate() {
            if pair[0].0 == pair[1].0 {
                return Err(decode_err(
                    format!("attributes[{}].code", i + 1),
                    format!("attribute {} given twice", pair[0].0),
                ));
            }
        }
        if sorted.first().is_some_and(|a| a.0 == 0) {
            return Err(decode_err(
                "attributes[0].code",
                "attribute code 0 is reserved",
            ));
        }
        let mut secret = SecretScalar::random(rng);
        // r = 0 would make K the identity, which no registry accepts.
        while secret.times_basepoint().is_identity() {
            secret = SecretScalar::random(rng);
        }
        Ok(Self {
            secret,
            attributes: sorted
                .into_iter()
                .map(|(code, value)| Attribute::new(code, value, rng))
                .collect(),
            enrolment: None,
            newest_snapshot: 0,
        })
    }

    /// The newest snapshot number of its registry this wallet has signed from (0: none).
    pub fn newest_snapshot(&self) -> u32 {
        self.newest_snapshot
    }

    /// Before signing from snapshot `number` of its registry: refuses one older than the
    /// newest it has signed from (`snapshot`, spec/32 §32.9) — an old snapshot may still
    /// hold a key its owner has since replaced. Returns whether `number` is newer (the
    /// wallet file should then be rewritten).
    pub fn see_snapshot(&mut self, number: u32) -> Result<bool, WalletError> {
        if number < self.newest_snapshot {
            return Err(decode_err(
                "snapshot",
                format!(
                    "snapshot {number} is older than snapshot {}, which this wallet has signed from already",
                    self.newest_snapshot
                ),
            ));
        }
        let newer = number > self.newest_snapshot;
        self.newest_snapshot = number;
        Ok(newer)
    }

    /// The registry this wallet was enrolled in, if it was.
    pub fn enrolment(&self) -> Option<&Enrolment> {
        self.enrolment.as_ref()
    }

    /// Records the registry the wallet is enrolled in. A wallet belongs to one registry:
    /// enrolling it again in the same one is a no-op, in another is refused (`enrolment`).
    pub fn record_enrolment(&mut self, enrolment: Enrolment) -> Result<(), WalletError> {
        match &self.enrolment {
            Some(known) if *known != enrolment => Err(decode_err(
                "enrolment",
                format!(
                    "this wallet is enrolled in registry {} already (registrars or threshold differ)",
                    urne_crypto::encoding::to_hex(&known.registry)
                ),
            )),
            _ => {
                self.enrolment = Some(enrolment);
                Ok(())
            }
        }
    }

    /// K = r·G: what the registrar records.
    pub fn public_key(&self) -> Point {
        self.secret.times_basepoint()
    }

    /// The secret r, for the signer (the ring signature of a petition).
    pub fn secret(&self) -> &SecretScalar {
        &self.secret
    }

    /// The registered attributes, sorted by code.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    fn plaintext(&self) -> Zeroizing<Vec<u8>> {
        let mut p = Zeroizing::new(Vec::with_capacity(
            33 + self.attributes.len() * ATTRIBUTE_LEN,
        ));
        p.extend_from_slice(self.secret.to_bytes().as_ref());
        p.push(self.attributes.len() as u8);
        for a in &self.attributes {
            a.encode(&mut p);
        }
        match &self.enrolment {
            None => p.push(0),
            Some(e) => {
                p.push(1);
                p.extend_from_slice(&e.registry);
                p.extend_from_slice(&self.newest_snapshot.to_be_bytes());
                p.extend_from_slice(&e.registrars.to_bytes());
            }
        }
        p
    }

    /// The wallet file's bytes (spec/30 §30.3): header, then the sealed
    /// r ‖ attribute count ‖ attributes, the header as associated data.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        passphrase: &[u8],
        params: KdfParams,
        rng: &mut R,
    ) -> Result<Vec<u8>, WalletError> {
        let plaintext = self.plaintext();
        Ok(urne_sealed::seal(
            &FORMAT, &plaintext, passphrase, params, rng,
        )?)
    }

    /// Opens a wallet file's bytes: header checked and Argon2id parameters bounded before
    /// any work, then decrypted and decoded strictly.
    pub fn open(bytes: &[u8], passphrase: &[u8]) -> Result<Self, WalletError> {
        if bytes.len() < HEADER_LEN + MIN_CONTENT_LEN + TAG_LEN || bytes.len() > MAX_FILE_LEN {
            return Err(WalletError::NotAWallet { field: "length" });
        }
        Self::decode_plaintext(&urne_sealed::open(&FORMAT, bytes, passphrase)?)
    }

    fn decode_plaintext(p: &[u8]) -> Result<Self, WalletError> {
        let secret =
            SecretScalar::decode(&p[..32]).map_err(|e| decode_err("secret", e.to_string()))?;
        if secret.times_basepoint().is_identity() {
            return Err(decode_err("secret", "r = 0 is not a key"));
        }
        let count = usize::from(p[32]);
        let end = 33 + count * ATTRIBUTE_LEN;
        if count > MAX_ATTRIBUTES || p.len() <= end {
            return Err(decode_err(
                "attribute_count",
                format!("{count} attributes do not fit the file's length"),
            ));
        }
        let (enrolment, newest_snapshot) = match decode_enrolment(&p[end..])? {
            Some((e, n)) => (Some(e), n),
            None => (None, 0),
        };
        Ok(Self {
            secret,
            attributes: decode_attributes(&p[33..end], "attributes")?,
            enrolment,
            newest_snapshot,
        })
    }

    /// The enrolment request for the registry `registry` (spec/30 §30.4), handed to the
    /// registrar in person with the identity documents; never published.
    pub fn enrolment_request<R: CryptoRng + ?Sized>(
        &self,
        registry: &[u8; 32],
        rng: &mut R,
    ) -> Result<EnrolmentRequest, WalletError> {
        let key = self.public_key();
        let attributes: Vec<Attribute> = self.attributes.iter().map(Attribute::duplicate).collect();
        let binding = request_binding(&attributes);
        let proof = SchnorrProof::prove(
            &ProofContext::new(&ContextHash(*registry), &binding),
            &self.secret,
            &key,
            rng,
        )
        .map_err(|_| WalletError::Proof)?;
        Ok(EnrolmentRequest {
            key,
            attributes,
            proof,
        })
    }
}

/// flag 0x00 (not enrolled) | flag 0x01 ‖ registry id (32) ‖ newest snapshot (u32 BE) ‖
/// registrars (spec/31 §31.2).
fn decode_enrolment(bytes: &[u8]) -> Result<Option<(Enrolment, u32)>, WalletError> {
    match bytes.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) if rest.len() >= 36 => {
            let (registry, rest) = rest.split_at(32);
            let (newest, registrars) = rest.split_at(4);
            let mut id = [0u8; 32];
            id.copy_from_slice(registry);
            let newest = u32::from_be_bytes([newest[0], newest[1], newest[2], newest[3]]);
            let registrars = Registrars::decode(registrars)
                .map_err(|e| decode_err("enrolment.registrars", e.to_string()))?;
            Ok(Some((
                Enrolment {
                    registry: id,
                    registrars,
                },
                newest,
            )))
        }
        Some((0 | 1, _)) => Err(decode_err(
            "enrolment",
            "its length disagrees with its flag",
        )),
        _ => Err(decode_err("enrolment", "the flag is neither 0 nor 1")),
    }
}

fn request_binding(attributes: &[Attribute]) -> Zeroizing<Vec<u8>> {
    let mut b = Zeroizing::new(Vec::with_capacity(
        ENROLMENT.len() + 1 + attributes.len() * ATTRIBUTE_LEN,
    ));
    b.extend_from_slice(ENROLMENT);
    b.push(attributes.len() as u8);
    for a in attributes {
        a.encode(&mut b);
    }
    b
}

/// What the wallet hands the registrar (spec/30 §30.4):
///
/// ```text
/// version (0x01) ‖ K (32) ‖ attribute count (u8) ‖ attributes (code u16 ‖ value u32 ‖ blinding 32)
///   ‖ Schnorr proof of r (65) over context = registry id, binding = label ‖ count ‖ attributes
/// ```
///
/// It holds the attribute openings: it goes to the registrar only, never on the board.
pub struct EnrolmentRequest {
    /// K = r·G.
    pub key: Point,
    attributes: Vec<Attribute>,
    proof: SchnorrProof,
}

impl fmt::Debug for EnrolmentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnrolmentRequest {{ key: {}, .. }}", self.key.to_hex())
    }
}

impl EnrolmentRequest {
    /// Encodes.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        out.push(REQUEST_VERSION);
        out.extend_from_slice(self.key.as_bytes());
        out.push(self.attributes.len() as u8);
        for a in &self.attributes {
            a.encode(&mut out);
        }
        out.extend_from_slice(&self.proof.to_bytes());
        out
    }

    /// Decodes strictly and verifies the proof against `registry`: a request made for
    /// another registry, or altered after it was made, is refused.
    pub fn decode_and_verify(bytes: &[u8], registry: &[u8; 32]) -> Result<Self, WalletError> {
        if bytes.len() < 1 + 32 + 1 + SchnorrProof::LEN {
            return Err(decode_err(
                "request",
                format!("{} bytes is too short", bytes.len()),
            ));
        }
        if bytes[0] != REQUEST_VERSION {
            return Err(decode_err(
                "version",
                format!("request version {} is not supported", bytes[0]),
            ));
        }
        let key = Point::decode_non_identity(&bytes[1..33])
            .map_err(|e| decode_err("key", e.to_string()))?;
        let count = usize::from(bytes[33]);
        if count > MAX_ATTRIBUTES {
            return Err(decode_err(
                "attribute_count",
                format!("{count} attributes exceed {MAX_ATTRIBUTES}"),
            ));
        }
        let end = 34 + count * ATTRIBUTE_LEN;
        if bytes.len() != end + SchnorrProof::LEN {
            return Err(decode_err(
                "proof",
                format!(
                    "{} bytes where {} were expected",
                    bytes.len(),
                    end + SchnorrProof::LEN
                ),
            ));
        }
        let attributes = decode_attributes(&bytes[34..end], "attributes")?;
        let proof =
            SchnorrProof::decode(&bytes[end..]).map_err(|e| decode_err("proof", e.to_string()))?;
        let binding = request_binding(&attributes);
        proof
            .verify(&ProofContext::new(&ContextHash(*registry), &binding), &key)
            .map_err(|_| WalletError::Proof)?;
        Ok(Self {
            key,
            attributes,
            proof,
        })
    }

    /// The attributes and their openings, which the registrar checks against the
    /// identity documents.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The value of attribute `code`, if the request has it.
    pub fn attribute(&self, code: u16) -> Option<u32> {
        self.attributes
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn wallet() -> Wallet {
        Wallet::generate(
            &[(ATTRIBUTE_AGE_BAND, 3), (ATTRIBUTE_DISTRICT, 12)],
            &mut rand::rng(),
        )
        .unwrap()
    }

    #[test]
    fn a_wallet_round_trips_through_its_file() {
        let w = wallet();
        let bytes = w.seal(b"correct horse", FAST, &mut rand::rng()).unwrap();
        let opened = Wallet::open(&bytes, b"correct horse").unwrap();
        assert_eq!(opened.public_key(), w.public_key());
        assert_eq!(opened.attributes().len(), 2);
        assert_eq!(opened.attributes()[0].code, ATTRIBUTE_DISTRICT);
        assert_eq!(opened.attributes()[0].value, 12);
        assert_eq!(
            opened.attributes()[1].commitment(),
            w.attributes()[1].commitment()
        );
        assert_eq!(
            Wallet::open(
                &Wallet::generate(&[], &mut rand::rng())
                    .unwrap()
                    .seal(b"p", FAST, &mut rand::rng())
                    .unwrap(),
                b"p"
            )
            .unwrap()
            .attributes()
            .len(),
            0
        );
    }

    #[test]
    fn a_wrong_passphrase_or_an_altered_file_is_refused() {
        let bytes = wallet()
            .seal(b"correct horse", FAST, &mut rand::rng())
            .unwrap();
        assert_eq!(
            Wallet::open(&bytes, b"correct hors").unwrap_err(),
            WalletError::WrongPassphrase
        );
        // Any byte after the parameters (salt, nonce, ciphertext, tag) is authenticated.
        for at in [HEADER_LEN - 1, HEADER_LEN, bytes.len() - 1] {
            let mut altered = bytes.clone();
            altered[at] ^= 1;
            assert_eq!(
                Wallet::open(&altered, b"correct horse").unwrap_err(),
                WalletError::WrongPassphrase,
                "byte {at}"
            );
        }
        // The parameters are associated data: a cheaper cost is detected too.
        let mut cheaper = bytes.clone();
        let it = WALLET_FILE_MAGIC.len() + 1 + 4;
        cheaper[it..it + 4].copy_from_slice(&2u32.to_be_bytes());
        assert_eq!(
            Wallet::open(&cheaper, b"correct horse").unwrap_err(),
            WalletError::WrongPassphrase
        );
    }

    #[test]
    fn a_file_that_is_not_a_wallet_is_named_before_any_work() {
        let bytes = wallet().seal(b"p", FAST, &mut rand::rng()).unwrap();
        let not = |b: &[u8]| match Wallet::open(b, b"p").unwrap_err() {
            WalletError::NotAWallet { field } => field,
            WalletError::BadParameters { field, .. } => field,
            e => panic!("{e}"),
        };
        let mut magic = bytes.clone();
        magic[0] ^= 1;
        assert_eq!(not(&magic), "magic");
        let mut version = bytes.clone();
        version[WALLET_FILE_MAGIC.len()] = 2;
        assert_eq!(not(&version), "version");
        assert_eq!(
            not(&bytes[..HEADER_LEN + MIN_CONTENT_LEN + TAG_LEN - 1]),
            "length"
        );
        let mut longer = bytes.clone();
        longer.resize(MAX_FILE_LEN + 1, 0);
        assert_eq!(not(&longer), "length");
        let mut huge = bytes.clone();
        let m = WALLET_FILE_MAGIC.len() + 1;
        huge[m..m + 4].copy_from_slice(&(MAX_MEMORY_KIB + 1).to_be_bytes());
        assert_eq!(not(&huge), "memory_kib");
        // 2 GiB, which the format once allowed: refused before any memory is taken.
        huge[m..m + 4].copy_from_slice(&(2 * 1024 * 1024u32).to_be_bytes());
        assert_eq!(not(&huge), "memory_kib");
    }

    fn registrars(n: u8) -> Registrars {
        let keys = (0..n)
            .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i + 1; 32]).verifying_key())
            .collect();
        Registrars::new(n.min(2), keys).unwrap()
    }

    #[test]
    fn the_wallet_keeps_the_registry_it_was_enrolled_in() {
        let mut w = wallet();
        let enrolment = Enrolment {
            registry: [7u8; 32],
            registrars: registrars(3),
        };
        w.record_enrolment(enrolment.clone()).unwrap();
        // Again in the same registry: nothing changes.
        w.record_enrolment(enrolment.clone()).unwrap();
        let bytes = w.seal(b"p", FAST, &mut rand::rng()).unwrap();
        let mut opened = Wallet::open(&bytes, b"p").unwrap();
        assert_eq!(opened.enrolment(), Some(&enrolment));
        // The newest snapshot signed from is kept: an older one is refused after it.
        assert!(opened.see_snapshot(3).unwrap());
        let bytes = opened.seal(b"p", FAST, &mut rand::rng()).unwrap();
        let mut opened = Wallet::open(&bytes, b"p").unwrap();
        assert_eq!(opened.newest_snapshot(), 3);
        assert!(!opened.see_snapshot(3).unwrap());
        assert!(matches!(
            opened.see_snapshot(2),
            Err(WalletError::Decode { field, .. }) if field == "snapshot"
        ));
        assert!(opened.see_snapshot(4).unwrap());
        assert_eq!(opened.attributes().len(), 2);
        // Another registry, or the same id under other registrars: refused.
        for other in [
            Enrolment {
                registry: [8u8; 32],
                registrars: registrars(3),
            },
            Enrolment {
                registry: [7u8; 32],
                registrars: registrars(2),
            },
        ] {
            let mut again = Wallet::open(&bytes, b"p").unwrap();
            assert!(matches!(
                again.record_enrolment(other),
                Err(WalletError::Decode { field, .. }) if field == "enrolment"
            ));
        }
    }

    #[test]
    fn a_malformed_enrolment_record_is_named() {
        let field = |b: &[u8]| match decode_enrolment(b).unwrap_err() {
            WalletError::Decode { field, .. } => field,
            e => panic!("{e}"),
        };
        assert_eq!(decode_enrolment(&[0]).unwrap(), None);
        assert_eq!(field(&[]), "enrolment");
        assert_eq!(field(&[2]), "enrolment");
        assert_eq!(field(&[0, 0]), "enrolment");
        assert_eq!(field(&[1; 20]), "enrolment");
        let mut bad = vec![1u8];
        bad.extend_from_slice(&[7u8; 32]);
        bad.extend_from_slice(&[0, 0, 0, 5]);
        bad.extend_from_slice(&[1, 0, 0]);
        assert_eq!(field(&bad), "enrolment.registrars");
    }

    #[test]
    fn attributes_given_twice_or_with_code_zero_are_refused() {
        let mut rng = rand::rng();
        assert!(matches!(
            Wallet::generate(&[(1, 2), (1, 3)], &mut rng),
            Err(WalletError::Decode { field, .. }) if field == "attributes[1].code"
        ));
        assert!(Wallet::generate(&[(0, 2)], &mut rng).is_err());
        let nine: Vec<(u16, u32)> = (1..=9).map(|c| (c, 0)).collect();
        assert!(Wallet::generate(&nine, &mut rng).is_err());
    }

    #[test]
    fn an_enrolment_request_verifies_only_for_its_registry_and_unaltered() {
        let w = wallet();
        let registry = [7u8; 32];
        let request = w.enrolment_request(&registry, &mut rand::rng()).unwrap();
        let bytes = request.to_bytes();
        let decoded = EnrolmentRequest::decode_and_verify(&bytes, &registry).unwrap();
        assert_eq!(decoded.key, w.public_key());
        assert_eq!(decoded.attribute(ATTRIBUTE_DISTRICT), Some(12));
        assert_eq!(
            decoded.attributes()[0].commitment(),
            w.attributes()[0].commitment()
        );
        assert_eq!(
            EnrolmentRequest::decode_and_verify(&bytes, &[8u8; 32]).unwrap_err(),
            WalletError::Proof
        );
        // A district changed by whoever carries the request: the proof binds it.
        let mut district = bytes.to_vec();
        let value = 34 + 2;
        district[value + 3] ^= 1;
        assert_eq!(
            EnrolmentRequest::decode_and_verify(&district, &registry).unwrap_err(),
            WalletError::Proof
        );
        // Another person's key with this proof.
        let mut key = bytes.to_vec();
        key[1..33].copy_from_slice(wallet().public_key().as_bytes());
        assert_eq!(
            EnrolmentRequest::decode_and_verify(&key, &registry).unwrap_err(),
            WalletError::Proof
        );
        let mut trailing = bytes.to_vec();
        trailing.push(0);
        assert!(matches!(
            EnrolmentRequest::decode_and_verify(&trailing, &registry),
            Err(WalletError::Decode { field, .. }) if field == "proof"
        ));
        let mut identity = bytes.to_vec();
        identity[1..33].copy_from_slice(&[0; 32]);
        assert!(matches!(
            EnrolmentRequest::decode_and_verify(&identity, &registry),
            Err(WalletError::Decode { field, .. }) if field == "key"
        ));
    }

    #[test]
    fn a_district_commitment_is_its_districts_generator_plus_blinding_h() {
        let a = Attribute::new(ATTRIBUTE_DISTRICT, 5, &mut rand::rng());
        let b = Attribute {
            code: a.code,
            value: 6,
            blinding: a.blinding.duplicate(),
        };
        assert_eq!(
            b.commitment() - a.commitment(),
            district_generator(6) - district_generator(5)
        );
    }

    #[test]
    fn the_commitment_is_value_g_plus_blinding_h() {
        let a = Attribute::new(ATTRIBUTE_AGE_BAND, 5, &mut rand::rng());
        let b = Attribute {
            code: a.code,
            value: 6,
            blinding: a.blinding.duplicate(),
        };
        assert_eq!(
            b.commitment() - a.commitment(),
            urne_crypto::group::basepoint()
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let w = wallet();
        let shown = format!("{w:?} {:?}", w.attributes()[0]);
        assert!(!shown.contains(&urne_crypto::encoding::to_hex(
            w.secret().to_bytes().as_ref()
        )));
        assert!(shown.contains("<secret>"));
    }
}
