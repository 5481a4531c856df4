//! Checks vector files as an independent implementation would: from the files alone,
//! through urne-crypto's public API.
#![allow(non_snake_case)]

use std::path::Path;

use curve25519_dalek::scalar::Scalar as DalekScalar;
use serde::de::DeserializeOwned;
use urne_crypto::dlog::DiscreteLogTable;
use urne_crypto::encoding::from_hex;
use urne_crypto::group::{basepoint, generator, hash_to_group};
use urne_crypto::hazmat;
use urne_crypto::proofs::{
    BitRangeProof, DleqProof, DleqStatement, RangeProof, SchnorrProof, ValueRange,
};
use urne_crypto::{
    BatchVerifier, CiphertextSum, ContextHash, EncryptionKey, Opening, Point, ProofContext, Scalar,
    SecretKey, SecretScalar, VerifyError,
};

use crate::schema::*;

/// What verifying a vector's proof gave.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Accepted,
    DecodeError,
    Rejected(VerifyError),
}

/// Collects failures instead of stopping at the first, so one run shows them all.
#[derive(Default)]
pub(crate) struct Report {
    checks: usize,
    failures: Vec<String>,
}

impl Report {
    pub(crate) fn expect(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.failures.push(what());
        }
    }
}

pub(crate) fn read<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn context(hex: &str) -> Result<ContextHash, String> {
    let bytes = from_hex(hex).map_err(|e| format!("context: {e}"))?;
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "context: not 32 bytes".to_owned())?;
    Ok(ContextHash(array))
}

fn secret(s: &Option<Scalar>, what: &str) -> Result<SecretScalar, String> {
    s.map(|s| SecretScalar::from_dalek(*s.as_dalek()))
        .ok_or_else(|| format!("witness.{what} missing"))
}

fn nonces(case_nonces: &[Scalar]) -> Vec<SecretScalar> {
    case_nonces
        .iter()
        .map(|s| SecretScalar::from_dalek(*s.as_dalek()))
        .collect()
}

/// One proof kind: how to re-prove a case from its witness and nonces, and how to
/// verify a proof against a statement.
trait Kind {
    type Statement: DeserializeOwned;
    const FILE: &'static str;
    fn reprove(
        ctx: &ProofContext<'_>,
        case: &ProofCase<Self::Statement>,
    ) -> Result<Vec<u8>, String>;
    fn verify(ctx: &ProofContext<'_>, statement: &Self::Statement, proof: &[u8]) -> Outcome;
}

fn outcome<P>(
    decoded: Result<P, urne_crypto::DecodeError>,
    verify: impl FnOnce(P) -> Result<(), VerifyError>,
) -> Outcome {
    match decoded {
        Err(_) => Outcome::DecodeError,
        Ok(p) => match verify(p) {
            Ok(()) => Outcome::Accepted,
            Err(e) => Outcome::Rejected(e),
        },
    }
}

struct Schnorr;
impl Kind for Schnorr {
    type Statement = SchnorrStatement;
    const FILE: &'static str = "schnorr.json";
    fn reprove(
        ctx: &ProofContext<'_>,
        case: &ProofCase<SchnorrStatement>,
    ) -> Result<Vec<u8>, String> {
        let x = secret(&case.witness.x, "x")?;
        hazmat::schnorr_prove_with_nonces(ctx, &x, &case.statement.X, &nonces(&case.nonces))
            .map(|p| p.to_bytes())
            .map_err(|e| e.to_string())
    }
    fn verify(ctx: &ProofContext<'_>, s: &SchnorrStatement, proof: &[u8]) -> Outcome {
        outcome(SchnorrProof::decode(proof), |p| p.verify(ctx, &s.X))
    }
}

struct Dleq;
fn dleq_statement(s: &DleqStatementVector) -> DleqStatement<'_> {
    DleqStatement {
        G1: &s.G1,
        X1: &s.X1,
        G2: &s.G2,
        X2: &s.X2,
    }
}
impl Kind for Dleq {
    type Statement = DleqStatementVector;
    const FILE: &'static str = "dleq.json";
    fn reprove(
        ctx: &ProofContext<'_>,
        case: &ProofCase<DleqStatementVector>,
    ) -> Result<Vec<u8>, String> {
        let x = secret(&case.witness.x, "x")?;
        hazmat::dleq_prove_with_nonces(
            ctx,
            &dleq_statement(&case.statement),
            &x,
            &nonces(&case.nonces),
        )
        .map(|p| p.to_bytes())
        .map_err(|e| e.to_string())
    }
    fn verify(ctx: &ProofContext<'_>, s: &DleqStatementVector, proof: &[u8]) -> Outcome {
        outcome(DleqProof::decode(proof), |p| {
            p.verify(ctx, &dleq_statement(s))
        })
    }
}

fn opening(w: &Witness) -> Result<Opening, String> {
    let m = w.m.ok_or("witness.m missing")?;
    Ok(Opening::new(m, secret(&w.r, "r")?))
}

struct Range;
impl Kind for Range {
    type Statement = RangeStatementVector;
    const FILE: &'static str = "range.json";
    fn reprove(
        ctx: &ProofContext<'_>,
        case: &ProofCase<RangeStatementVector>,
    ) -> Result<Vec<u8>, String> {
        let s = &case.statement;
        let range = ValueRange::new(s.min, s.max).map_err(|e| e.to_string())?;
        let key = EncryptionKey::new(s.K);
        hazmat::range_prove_with_nonces(
            ctx,
            &key,
            &s.ciphertext,
            &opening(&case.witness)?,
            range,
            &nonces(&case.nonces),
        )
        .map(|p| p.to_bytes())
        .map_err(|e| e.to_string())
    }
    fn verify(ctx: &ProofContext<'_>, s: &RangeStatementVector, proof: &[u8]) -> Outcome {
        let range = match ValueRange::new(s.min, s.max) {
            Ok(r) => r,
            Err(e) => return Outcome::Rejected(e),
        };
        outcome(RangeProof::decode(proof), |p| {
            p.verify(ctx, &s.K, &s.ciphertext, range)
        })
    }
}

struct BitRange;
impl Kind for BitRange {
    type Statement = BitRangeStatementVector;
    const FILE: &'static str = "bit_range.json";
    fn reprove(
        ctx: &ProofContext<'_>,
        case: &ProofCase<BitRangeStatementVector>,
    ) -> Result<Vec<u8>, String> {
        let s = &case.statement;
        let key = EncryptionKey::new(s.K);
        hazmat::bit_range_prove_with_nonces(
            ctx,
            &key,
            &s.ciphertext,
            &opening(&case.witness)?,
            s.bits as usize,
            &nonces(&case.nonces),
        )
        .map(|p| p.to_bytes())
        .map_err(|e| e.to_string())
    }
    fn verify(ctx: &ProofContext<'_>, s: &BitRangeStatementVector, proof: &[u8]) -> Outcome {
        let bits = usize::try_from(s.bits).unwrap_or(usize::MAX);
        outcome(BitRangeProof::decode(proof), |p| {
            p.verify(ctx, &s.K, &s.ciphertext, bits)
        })
    }
}

fn check_proofs<K: Kind>(dir: &Path, label: &[u8], report: &mut Report) -> Result<(), String> {
    let file: ProofVectors<K::Statement> = read(dir, K::FILE)?;
    report.expect(file.label.as_bytes() == label, || {
        format!("{}: label {}", K::FILE, file.label)
    });
    report.expect(!file.cases.is_empty(), || format!("{}: no cases", K::FILE));
    for case in &file.cases {
        let hash = context(&case.context)?;
        let binding =
            from_hex(&case.binding).map_err(|e| format!("{}: binding: {e}", case.name))?;
        let ctx = ProofContext::new(&hash, &binding);
        let proof = from_hex(&case.proof).map_err(|e| format!("{}: proof: {e}", case.name))?;
        match K::reprove(&ctx, case) {
            Ok(bytes) => report.expect(bytes == proof, || {
                format!("{}: {}: recomputed proof differs", K::FILE, case.name)
            }),
            Err(e) => report.expect(false, || {
                format!("{}: {}: cannot re-prove: {e}", K::FILE, case.name)
            }),
        }
        let got = K::verify(&ctx, &case.statement, &proof);
        report.expect(got == Outcome::Accepted, || {
            format!("{}: {}: valid proof gave {got:?}", K::FILE, case.name)
        });
    }
    report.expect(!file.negative.is_empty(), || {
        format!("{}: no negative cases", K::FILE)
    });
    for case in &file.negative {
        let hash = context(&case.context)?;
        let binding =
            from_hex(&case.binding).map_err(|e| format!("{}: binding: {e}", case.name))?;
        let ctx = ProofContext::new(&hash, &binding);
        let proof = from_hex(&case.proof).map_err(|e| format!("{}: proof: {e}", case.name))?;
        let got = K::verify(&ctx, &case.statement, &proof);
        // A forgery must fail the one check it was built to fail (spec/07 §7.2).
        let ok = match (case.expect, &got, &case.fails_only) {
            (Expect::DecodeError, got, _) => *got == Outcome::DecodeError,
            (Expect::Reject, Outcome::Rejected(e), Some(check)) => e.spec_check() == check,
            (Expect::Reject, Outcome::Rejected(_), None) => true,
            (Expect::Reject, _, _) => false,
        };
        report.expect(ok, || {
            let only = case
                .fails_only
                .as_ref()
                .map(|c| format!(" failing only {c}"))
                .unwrap_or_default();
            format!(
                "{}: {}: expected {:?}{only}, got {got:?}",
                K::FILE,
                case.name,
                case.expect
            )
        });
    }
    Ok(())
}

fn check_encodings(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: EncodingVectors = read(dir, "encodings.json")?;
    report.expect(v.small_multiples.len() == 16, || {
        "encodings: expected 16 small multiples".to_owned()
    });
    for (i, p) in v.small_multiples.iter().enumerate() {
        let expected =
            Point::from_ristretto(basepoint().as_ristretto() * DalekScalar::from(i as u64));
        report.expect(*p == expected, || format!("encodings: small multiple {i}"));
    }
    for bad in &v.invalid_points {
        let rejected = from_hex(&bad.encoding)
            .map(|b| Point::decode(&b).is_err())
            .unwrap_or(true);
        report.expect(rejected, || {
            format!(
                "encodings: invalid point accepted: {} ({})",
                bad.encoding, bad.reason
            )
        });
    }
    for bad in &v.invalid_scalars {
        let rejected = from_hex(&bad.encoding)
            .map(|b| Scalar::decode(&b).is_err())
            .unwrap_or(true);
        report.expect(rejected, || {
            format!("encodings: invalid scalar accepted: {}", bad.reason)
        });
    }
    for bad in &v.invalid_hex {
        report.expect(Point::from_hex(&bad.encoding).is_err(), || {
            format!("encodings: bad hex accepted: {}", bad.reason)
        });
    }
    report.expect(!v.valid_scalars.is_empty(), || {
        "encodings: no valid scalars".to_owned()
    });
    for h in &v.hash_to_group {
        let input = from_hex(&h.input).map_err(|e| format!("hash_to_group input: {e}"))?;
        report.expect(hash_to_group(&input) == h.output, || {
            format!("encodings: hash_to_group({})", h.input)
        });
    }
    for g in &v.generators {
        report.expect(generator(g.name.as_bytes()) == g.point, || {
            format!("encodings: generator {}", g.name)
        });
    }
    Ok(())
}

fn check_elgamal(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: ElGamalVectors = read(dir, "elgamal.json")?;
    let mut sum = CiphertextSum::default();
    for (i, case) in v.cases.iter().enumerate() {
        let key = SecretKey::from_secret(SecretScalar::from_dalek(*case.secret_key.as_dalek()));
        report.expect(key.public_key() == case.public_key, || {
            format!("elgamal: case {i}: K ≠ s·G")
        });
        let enc = EncryptionKey::new(case.public_key);
        let opening = Opening::new(
            case.message,
            SecretScalar::from_dalek(*case.nonce.as_dalek()),
        );
        report.expect(enc.encrypt_opening(&opening) == case.ciphertext, || {
            format!("elgamal: case {i}: Enc(m; r)")
        });
        report.expect(
            key.partial_decrypt(&case.ciphertext) == case.partial_decryption,
            || format!("elgamal: case {i}: s·α"),
        );
        if case.message < 1_000_000 {
            sum.add(&case.ciphertext);
        }
    }
    report.expect(sum.finish() == v.sum, || {
        "elgamal: homomorphic sum".to_owned()
    });
    if let Some(first) = v.cases.first() {
        let key = SecretKey::from_secret(SecretScalar::from_dalek(*first.secret_key.as_dalek()));
        let table = DiscreteLogTable::new(1_000_000).map_err(|e| e.to_string())?;
        let solved = table.solve(&key.decrypt_to_point(&v.sum));
        report.expect(solved == Some(v.sum_message), || {
            format!("elgamal: sum decrypts to {solved:?}")
        });
    }
    Ok(())
}

fn check_batches(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: BatchVectors = read(dir, "batch.json")?;
    for batch in &v.batches {
        let hash = context(&batch.context)?;
        let range = ValueRange::new(batch.min, batch.max).map_err(|e| e.to_string())?;
        let mut verifier = BatchVerifier::new();
        for (i, item) in batch.items.iter().enumerate() {
            let binding = format!("item {i}");
            let ctx = ProofContext::new(&hash, binding.as_bytes());
            let proof = from_hex(&item.proof)
                .map_err(VerifyError::from)
                .and_then(|b| Ok(RangeProof::decode(&b)?));
            verifier.push(
                i,
                proof.and_then(|p| p.relations(&ctx, &batch.K, &item.ciphertext, range)),
            );
        }
        let failing: Vec<usize> = match verifier.verify(&mut rand::rng()) {
            Ok(()) => Vec::new(),
            Err(f) => f.failures.into_iter().map(|(i, _)| i).collect(),
        };
        report.expect(failing == batch.failing, || {
            format!(
                "batch: {}: named {failing:?}, expected {:?}",
                batch.name, batch.failing
            )
        });
    }
    Ok(())
}

fn check_dlog(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: DlogVectors = read(dir, "dlog.json")?;
    let table = DiscreteLogTable::new(v.bound).map_err(|e| format!("dlog bound: {e}"))?;
    for case in &v.cases {
        let solved = table.solve(case.point.as_ristretto());
        report.expect(solved == case.log, || {
            format!(
                "dlog: {:?} solved to {solved:?}, expected {:?}",
                case.point, case.log
            )
        });
    }
    Ok(())
}

/// One file's checks.
type CheckStep = fn(&Path, &mut Report) -> Result<(), String>;

/// Checks every vector file in `dir`. Returns the number of checks made, or every
/// failure found.
pub fn check_dir(dir: &Path) -> Result<usize, Vec<String>> {
    let mut report = Report::default();
    let steps: [(&str, CheckStep); 15] = [
        ("encodings", check_encodings),
        ("elgamal", check_elgamal),
        ("schnorr", |d, r| {
            check_proofs::<Schnorr>(d, urne_crypto::labels::PROOF_SCHNORR, r)
        }),
        ("dleq", |d, r| {
            check_proofs::<Dleq>(d, urne_crypto::labels::PROOF_DLEQ, r)
        }),
        ("range", |d, r| {
            check_proofs::<Range>(d, urne_crypto::labels::PROOF_CDS_RANGE, r)
        }),
        ("bit range", |d, r| {
            check_proofs::<BitRange>(d, urne_crypto::labels::PROOF_BIT_RANGE, r)
        }),
        ("batch", check_batches),
        ("dlog", check_dlog),
        ("ceremony", crate::ceremony::check),
        ("ballot", crate::ballots::check),
        ("tally", crate::tally::check),
        ("budget", crate::budget::check),
        ("credential", crate::credentials::check),
        ("petition", crate::petition::check),
        ("triptych", crate::triptych::check),
    ];
    for (name, step) in steps {
        if let Err(e) = step(dir, &mut report) {
            report.failures.push(format!("{name}: {e}"));
        }
    }
    if report.failures.is_empty() {
        Ok(report.checks)
    } else {
        Err(report.failures)
    }
}
