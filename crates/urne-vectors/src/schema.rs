//! The JSON shape of every vector file (spec/07-vectors.md). The generator writes these
//! structures and the checker reads them back with unknown fields refused.
#![allow(non_snake_case)]

use serde::{Deserialize, Serialize};
use urne_crypto::{Ciphertext, Point, PublicKey, Scalar};

/// What a negative vector must produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// The proof bytes must fail to decode.
    DecodeError,
    /// The proof decodes but verification must fail.
    Reject,
}

/// Header common to every file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// What the file holds.
    pub description: String,
    /// The spec section it exercises.
    pub spec: String,
}

/// A point, scalar or string that must decode, or must not.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvalidEncoding {
    /// Lowercase hex of the bytes (for `invalid_hex`: the string itself).
    pub encoding: String,
    /// Why it is invalid.
    pub reason: String,
}

/// vectors/encodings.json
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncodingVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// i·G for i = 0 … 15 (RFC 9496 A.1).
    pub small_multiples: Vec<Point>,
    /// RFC 9496 A.2 invalid encodings, and more.
    pub invalid_points: Vec<InvalidEncoding>,
    /// Canonical scalars.
    pub valid_scalars: Vec<Scalar>,
    /// Non-canonical scalars.
    pub invalid_scalars: Vec<InvalidEncoding>,
    /// JSON strings that are not valid hex of the accepted form.
    pub invalid_hex: Vec<InvalidEncoding>,
    /// HashToGroup (spec §1.3) of ASCII inputs (RFC 9496 A.3 and ours).
    pub hash_to_group: Vec<HashToGroupVector>,
    /// Derived generators.
    pub generators: Vec<GeneratorVector>,
}

/// One HashToGroup input and its output.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashToGroupVector {
    /// Input, as lowercase hex of its bytes.
    pub input: String,
    /// Output element.
    pub output: Point,
}

/// A named generator.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorVector {
    /// The name N (ASCII).
    pub name: String,
    /// Gen(N).
    pub point: Point,
}

/// vectors/elgamal.json
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElGamalVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// Encryptions.
    pub cases: Vec<ElGamalCase>,
    /// The homomorphic sum of every case's ciphertext.
    pub sum: Ciphertext,
    /// Its decryption.
    pub sum_message: u64,
}

/// One encryption.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElGamalCase {
    /// s.
    pub secret_key: Scalar,
    /// K = s·G.
    pub public_key: PublicKey,
    /// m.
    pub message: u64,
    /// r.
    pub nonce: Scalar,
    /// Enc(m; r).
    pub ciphertext: Ciphertext,
    /// s·α.
    pub partial_decryption: Point,
}

/// A proof file: positive cases and negative ones.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofVectors<S> {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// The proof's transcript label (ASCII).
    pub label: String,
    /// Proofs that verify, with witness and nonces.
    pub cases: Vec<ProofCase<S>>,
    /// Proofs that must not verify.
    pub negative: Vec<NegativeCase<S>>,
}

/// A valid proof with everything needed to recompute it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofCase<S> {
    /// Name.
    pub name: String,
    /// Context hash (32 bytes, hex).
    pub context: String,
    /// Binding bytes (hex).
    pub binding: String,
    /// The statement.
    pub statement: S,
    /// The witness: scalars, in the order the proof's section names them.
    pub witness: Witness,
    /// The nonces, in drawing order (spec §4.1).
    pub nonces: Vec<Scalar>,
    /// The proof's bytes (hex).
    pub proof: String,
}

/// A witness.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// A discrete log x (Schnorr, DLEQ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<Scalar>,
    /// The message m of an opening (range proofs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<u64>,
    /// The nonce r of an opening (range proofs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<Scalar>,
}

/// An altered input or proof that must fail.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeCase<S> {
    /// What was altered.
    pub name: String,
    /// Context hash (hex).
    pub context: String,
    /// Binding bytes (hex).
    pub binding: String,
    /// The statement.
    pub statement: S,
    /// The proof's bytes (hex), possibly not decodable.
    pub proof: String,
    /// The required outcome.
    pub expect: Expect,
    /// For a forgery: the one check it fails, by its spec name (`E1`, `E2`, `R1`, `R2`,
    /// `challenge-sum`, `branch-count`, `bit-count`). It passes every other check, so a
    /// verifier that skips this one accepts it. Absent for the other negatives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fails_only: Option<String>,
}

/// Schnorr statement (spec §4.2).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchnorrStatement {
    /// X.
    pub X: Point,
}

/// DLEQ statement (spec §4.3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DleqStatementVector {
    /// G1.
    pub G1: Point,
    /// X1.
    pub X1: Point,
    /// G2.
    pub G2: Point,
    /// X2.
    pub X2: Point,
}

/// Range statement (spec §4.4).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeStatementVector {
    /// K.
    pub K: PublicKey,
    /// (α, β).
    pub ciphertext: Ciphertext,
    /// min.
    pub min: u64,
    /// max.
    pub max: u64,
}

/// Bit range statement (spec §4.5).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitRangeStatementVector {
    /// K.
    pub K: PublicKey,
    /// (α, β).
    pub ciphertext: Ciphertext,
    /// k.
    pub bits: u64,
}

/// vectors/batch.json: batches of 0/1 range proofs and which must be named as failing.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// Batches.
    pub batches: Vec<BatchCase>,
}

/// One batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchCase {
    /// Name.
    pub name: String,
    /// Context hash (hex).
    pub context: String,
    /// K.
    pub K: PublicKey,
    /// Range of every proof.
    pub min: u64,
    /// Range of every proof.
    pub max: u64,
    /// Items; item i's binding is the ASCII text `item <i>`.
    pub items: Vec<BatchItem>,
    /// Indices of the items that must be reported as failing, ascending.
    pub failing: Vec<usize>,
    /// For a batch built to defeat a weakened batch verifier: which weakening it
    /// defeats (spec/06-batch.md step 1). Absent for the other batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defeats: Option<String>,
}

/// One item of a batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// The ciphertext.
    pub ciphertext: Ciphertext,
    /// The range proof (hex).
    pub proof: String,
}

/// vectors/dlog.json
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlogVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// The bound B.
    pub bound: u64,
    /// Points and their logs in [0, B], or null when there is none.
    pub cases: Vec<DlogCase>,
}

/// One discrete log.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlogCase {
    /// M.
    pub point: Point,
    /// m with m·G = M and 0 ≤ m ≤ B, or null.
    pub log: Option<u64>,
}
