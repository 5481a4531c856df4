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

/// vectors/ceremony.json (spec/20-ceremony.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// §20.4 steps 1–2: the context hash and a commitment hash.
    pub context_example: CeremonyContextExample,
    /// §20.5: one sealed share.
    pub share_encryption: ShareEncryptionExample,
    /// A whole 2-of-3 ceremony with one complaint answered.
    pub transcript: CeremonyTranscriptVector,
    /// Its outcome (§20.6).
    pub outcome: CeremonyOutcomeVector,
    /// Transcripts that differ from it in one record, each with its verdict (§20.6).
    pub negative: Vec<CeremonyNegative>,
    /// Decryption shares of the ceremony's trustees (§20.7).
    pub decryption: DecryptionVector,
}

/// The inputs and outputs of §20.4 steps 1–2.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyContextExample {
    /// The board context id of the ceremony (hex, 32 bytes).
    pub ceremony_id: String,
    /// t.
    pub threshold: u16,
    /// Ed25519 identity keys (hex), trustee j the j-th.
    pub identities: Vec<String>,
    /// P_j, trustee j the j-th.
    pub share_keys: Vec<Point>,
    /// ctx (hex).
    pub context: String,
    /// Dealer i.
    pub dealer: u16,
    /// A_i0 … A_i,t−1.
    pub commitments: Vec<Point>,
    /// h_i (hex).
    pub commitment_hash: String,
}

/// The inputs and outputs of §20.5.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareEncryptionExample {
    /// The dealer's ephemeral secret e.
    pub e: Scalar,
    /// The recipient's share-key secret p_j.
    pub p: Scalar,
    /// ctx (hex).
    pub context: String,
    /// i.
    pub dealer: u16,
    /// j.
    pub recipient: u16,
    /// f_i(j).
    pub share: Scalar,
    /// E = e·G.
    pub E: Point,
    /// P_j = p_j·G.
    pub P: Point,
    /// Z = e·P_j.
    pub Z: Point,
    /// ChaCha20-Poly1305 ciphertext ‖ tag (hex, 48 bytes).
    pub sealed: String,
}

/// Every record body of a ceremony (hex), by round, and what §20.6 makes of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyTranscriptVector {
    /// The board context id (hex).
    pub ceremony_id: String,
    /// `ceremony.open`.
    pub open: String,
    /// `ceremony.register` bodies.
    pub registrations: Vec<String>,
    /// `ceremony.commitment-hash` bodies.
    pub commitment_hashes: Vec<String>,
    /// `ceremony.commitments` bodies.
    pub commitments: Vec<String>,
    /// `ceremony.shares` bodies.
    pub shares: Vec<String>,
    /// `ceremony.complaint` bodies.
    pub complaints: Vec<String>,
    /// `ceremony.answer` bodies.
    pub answers: Vec<String>,
}

/// The outcome of §20.6.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyOutcomeVector {
    /// ctx (hex).
    pub context: String,
    /// QUAL.
    pub qualified: Vec<u16>,
    /// K.
    pub joint_key: Point,
    /// S_1 … S_n.
    pub verification_keys: Vec<Point>,
}

/// A transcript that differs from the positive one, and its verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyNegative {
    /// What was changed.
    pub name: String,
    /// The whole transcript.
    pub transcript: CeremonyTranscriptVector,
    /// `disqualified <dealer> <reason>` or the fault (spec/07 §7.5).
    pub expect: String,
}

/// Decryption shares of a list of ciphertexts (§20.7).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionVector {
    /// The election context hash the proofs bind (hex).
    pub election: String,
    /// The list decrypted, in order; the last is (O, O), a sum of no ballots.
    pub ciphertexts: Vec<Ciphertext>,
    /// Each trustee's `tally.decryption-shares` body (hex).
    pub shares: Vec<String>,
    /// What each ciphertext combines to (any t of the share sets): m·G.
    pub combined: Vec<Point>,
    /// Its m.
    pub messages: Vec<u64>,
    /// Share sets that fail §20.7, each with its verdict.
    pub negative: Vec<DecryptionNegative>,
}

/// One bad share set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionNegative {
    /// What was changed.
    pub name: String,
    /// The body (hex).
    pub shares: String,
    /// `invalid-share <trustee> <position>`, `wrong-count <trustee>`, `unknown-trustee <j>`.
    pub expect: String,
}

/// vectors/ballot.json (spec/21-ballots.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// Elections: context hash inputs and the hash (§21.3).
    pub elections: Vec<ElectionVector>,
    /// Ballots made from given nonces (§21.9), byte for byte.
    pub ballots: Vec<BallotCase>,
    /// Ballots that fail one check of §21.6.
    pub negative: Vec<BallotNegative>,
    /// Benaloh audits that pass (§21.8).
    pub audits: Vec<AuditCase>,
    /// Audits that fail one check of §21.8.
    pub audit_negative: Vec<AuditCase>,
}

/// An election as ballots see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionVector {
    /// Its name in this file.
    pub name: String,
    /// The manifest's bytes (hex, §21.1).
    pub manifest: String,
    /// K.
    pub joint_key: Point,
    /// The credential list's root (hex).
    pub credential_root: String,
    /// The board's origin.
    pub board_origin: String,
    /// The context id (hex).
    pub context_id: String,
    /// ctx (hex).
    pub context: String,
}

/// One contest's selection.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionVector {
    /// A value per option.
    pub values: Vec<u64>,
    /// The blank vote.
    pub blank: bool,
}

/// A ballot from given nonces.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotCase {
    /// What it is.
    pub name: String,
    /// The election's name.
    pub election: String,
    /// The credential (hex, 32 bytes).
    pub credential: String,
    /// One per contest.
    pub selections: Vec<SelectionVector>,
    /// Every nonce, in the order of §21.9.
    pub nonces: Vec<Scalar>,
    /// The ballot (hex).
    pub ballot: String,
    /// Its tracking code (hex, §21.7).
    pub tracking_code: String,
    /// Its short form.
    pub short_code: String,
}

/// A ballot checked for a casting credential, and the verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotNegative {
    /// What was changed.
    pub name: String,
    /// The election's name.
    pub election: String,
    /// The credential that cast it (hex).
    pub cast_by: String,
    /// The ballot (hex).
    pub ballot: String,
    /// The verdict (spec/07 §7.5).
    pub expect: String,
}

/// A ballot and the audited opening of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCase {
    /// What it is.
    pub name: String,
    /// The election's name.
    pub election: String,
    /// The ballot (hex).
    pub ballot: String,
    /// The audited ballot (hex, §21.8).
    pub audited: String,
    /// `ok` or the verdict (spec/07 §7.5).
    pub expect: String,
}

/// vectors/tally.json (spec/24-tally.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// The election (its credential root is the list's).
    pub election: ElectionVector,
    /// The credential list (spec/22 §22.3), in list order.
    pub credentials: Vec<ListedCredentialVector>,
    /// What the tally needs of the key ceremony's outcome (spec/20 §20.6).
    pub ceremony: TallyCeremonyVector,
    /// The accepted ballots, in log order (hex).
    pub ballots: Vec<String>,
    /// The posted `tally.decryption-shares` bodies (hex): trustees 1 and 3, trustee 2 absent.
    pub shares: Vec<String>,
    /// The `tally.result` body (hex).
    pub result: String,
    /// Its counts, per contest, per entry.
    pub counts: Vec<Vec<u64>>,
    /// Inputs that each fail one check of §24.6.
    pub negative: Vec<TallyNegative>,
}

/// One entry of a credential list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedCredentialVector {
    /// The public credential.
    pub credential: Point,
    /// Its weight.
    pub weight: u32,
}

/// The ceremony outcome a tally is checked against.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyCeremonyVector {
    /// The ceremony context hash (hex).
    pub context: String,
    /// t.
    pub threshold: u16,
    /// K.
    pub joint_key: Point,
    /// S_1 … S_n.
    pub verification_keys: Vec<Point>,
}

/// The positive inputs with some replaced, and the verdict of §24.6.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyNegative {
    /// What was changed.
    pub name: String,
    /// Ballots in place of the positive ones, if they were changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballots: Option<Vec<String>>,
    /// Shares in place of the positive ones, if they were changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<Vec<String>>,
    /// The result checked (hex).
    pub result: String,
    /// The verdict (spec/07 §7.5).
    pub expect: String,
}

/// vectors/credential.json (spec/22-credentials.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialVectors {
    /// Header.
    #[serde(flatten)]
    pub header: Header,
    /// Credentials as printed, their secret scalar and public credential (§22.2).
    pub credentials: Vec<CredentialCase>,
    /// Typed credentials a reader refuses, and why.
    pub invalid_credentials: Vec<InvalidCredential>,
    /// A list of these credentials: entries in list order, its root, its one part (§22.3).
    pub list: CredentialListVector,
    /// Parts a decoder or assembler refuses.
    pub list_negative: Vec<CredentialListNegative>,
    /// Ballot signatures (§22.4): each verifies as given.
    pub signatures: Vec<SignatureCase>,
    /// Signatures checked against something else than what they signed: each fails.
    pub signature_negative: Vec<SignatureCase>,
}

/// One credential.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialCase {
    /// As printed for the voter.
    pub text: String,
    /// x.
    pub secret: Scalar,
    /// X = x·G.
    pub public: Point,
}

/// A typed credential that is refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvalidCredential {
    /// As typed.
    pub text: String,
    /// `character <position>`, `length <count>` or `checksum`.
    pub expect: String,
}

/// A credential list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialListVector {
    /// Entries in list order.
    pub entries: Vec<ListedCredentialVector>,
    /// The Merkle root (hex).
    pub root: String,
    /// Its parts (hex), in order.
    pub parts: Vec<String>,
}

/// Parts that are refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialListNegative {
    /// What was changed.
    pub name: String,
    /// The parts (hex), in order.
    pub parts: Vec<String>,
    /// `decode <field>`, `order <index>` or `parts`.
    pub expect: String,
}

/// A ballot signature and what it is checked against.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureCase {
    /// What it is.
    pub name: String,
    /// The public credential.
    pub credential: Point,
    /// The election context hash (hex).
    pub context: String,
    /// The ballot digest (hex, the ballot's tracking code).
    pub ballot_digest: String,
    /// The signature (hex, 65 bytes).
    pub signature: String,
    /// The decision it is checked for: `cast` or `audit` (spec/22 §22.4). Files written
    /// before decisions were bound have no such field: their signatures are casts'.
    #[serde(default = "cast")]
    pub decision: String,
}

fn cast() -> String {
    "cast".to_owned()
}
