//! Makes the vector files.
#![allow(non_snake_case)]

use curve25519_dalek::scalar::Scalar as DalekScalar;
use serde::Serialize;
use sha2::{Digest, Sha512};
use urne_crypto::encoding::to_hex;
use urne_crypto::group::{basepoint, generator, hash_to_group};
use urne_crypto::hazmat;
use urne_crypto::proofs::{DleqProof, DleqStatement, SchnorrProof, ValueRange};
use urne_crypto::{
    Ciphertext, CiphertextSum, ContextHash, EncryptionKey, Opening, Point, ProofContext, PublicKey,
    Scalar, SecretKey, SecretScalar,
};

use crate::VectorFile;
use crate::forge::{self, g};
use crate::schema::*;

/// A deterministic scalar for `name`.
pub(crate) fn derive(name: &str) -> DalekScalar {
    let mut hasher = Sha512::new();
    hasher.update(b"urne/v1/test-vectors/");
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    DalekScalar::from_bytes_mod_order_wide(&wide)
}

fn secret(name: &str) -> SecretScalar {
    SecretScalar::from_dalek(derive(name))
}

fn nonces(name: &str, count: usize) -> Vec<SecretScalar> {
    (0..count)
        .map(|i| secret(&format!("{name}/nonce/{i}")))
        .collect()
}

fn public(s: &SecretScalar) -> Scalar {
    Scalar::from_dalek(*s.expose_secret())
}

fn context_hash(name: &str) -> ContextHash {
    let mut out = [0u8; 32];
    out.copy_from_slice(&derive(&format!("{name}/context")).to_bytes());
    ContextHash(out)
}

fn times_g(s: &DalekScalar) -> Point {
    Point::from_ristretto(basepoint().as_ristretto() * s)
}

fn plus_g(p: &Point) -> Point {
    Point::from_ristretto(p.as_ristretto() + basepoint().as_ristretto())
}

pub(crate) fn file<T: Serialize>(name: &'static str, value: &T) -> VectorFile {
    let mut contents = serde_json::to_string_pretty(value).unwrap_or_default();
    contents.push('\n');
    VectorFile { name, contents }
}

pub(crate) fn header(description: &str, spec: &str) -> Header {
    Header {
        description: description.to_owned(),
        spec: spec.to_owned(),
    }
}

/// ℓ, little-endian: the smallest non-canonical scalar.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// RFC 9496 Appendix A.2, with the reason each is invalid.
const RFC9496_INVALID: [(&str, &str); 29] = [
    (
        "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "non-canonical field encoding",
    ),
    (
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "non-canonical field encoding",
    ),
    (
        "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "non-canonical field encoding",
    ),
    (
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "non-canonical field encoding",
    ),
    (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "negative field element",
    ),
    (
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "negative field element",
    ),
    (
        "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
        "negative field element",
    ),
    (
        "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
        "negative field element",
    ),
    (
        "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
        "negative field element",
    ),
    (
        "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
        "negative field element",
    ),
    (
        "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
        "negative field element",
    ),
    (
        "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
        "negative field element",
    ),
    (
        "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
        "non-square x^2",
    ),
    (
        "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
        "non-square x^2",
    ),
    (
        "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
        "non-square x^2",
    ),
    (
        "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
        "non-square x^2",
    ),
    (
        "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
        "non-square x^2",
    ),
    (
        "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
        "non-square x^2",
    ),
    (
        "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
        "non-square x^2",
    ),
    (
        "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
        "non-square x^2",
    ),
    (
        "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
        "negative xy",
    ),
    (
        "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
        "negative xy",
    ),
    (
        "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
        "negative xy",
    ),
    (
        "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
        "negative xy",
    ),
    (
        "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
        "negative xy",
    ),
    (
        "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
        "negative xy",
    ),
    (
        "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
        "negative xy",
    ),
    (
        "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
        "negative xy",
    ),
    (
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "s = -1, which gives y = 0",
    ),
];

/// RFC 9496 Appendix A.3 inputs (their SHA-512 is the one-way map's input).
const RFC9496_HASH_INPUTS: [&str; 7] = [
    "Ristretto is traditionally a short shot of espresso coffee",
    "made with the normal amount of ground coffee but extracted with",
    "about half the amount of water in the same amount of time",
    "by using a finer grind.",
    "This produces a concentrated shot of coffee per volume.",
    "Just pulling a normal shot short will produce a weaker shot",
    "and is not a Ristretto as some believe.",
];

fn encodings() -> VectorFile {
    let small_multiples = (0u64..16).map(|i| times_g(&DalekScalar::from(i))).collect();
    let mut invalid_points: Vec<InvalidEncoding> = RFC9496_INVALID
        .iter()
        .map(|(e, r)| InvalidEncoding {
            encoding: (*e).to_owned(),
            reason: format!("RFC 9496 A.2: {r}"),
        })
        .collect();
    invalid_points.push(InvalidEncoding {
        encoding: to_hex(&[0u8; 31]),
        reason: "31 bytes".to_owned(),
    });
    invalid_points.push(InvalidEncoding {
        encoding: format!("{}00", basepoint().to_hex()),
        reason: "33 bytes (G and a trailing byte)".to_owned(),
    });
    let mut ell_minus_one = ELL;
    ell_minus_one[0] -= 1;
    let valid_scalars = [[0u8; 32], ell_minus_one, derive("scalar").to_bytes()]
        .iter()
        .filter_map(|b| Scalar::decode(b).ok())
        .collect();
    let mut ell_plus_one = ELL;
    ell_plus_one[0] += 1;
    let invalid_scalars = vec![
        InvalidEncoding {
            encoding: to_hex(&ELL),
            reason: "ℓ".to_owned(),
        },
        InvalidEncoding {
            encoding: to_hex(&ell_plus_one),
            reason: "ℓ + 1".to_owned(),
        },
        InvalidEncoding {
            encoding: to_hex(&[0xff; 32]),
            reason: "2^256 − 1".to_owned(),
        },
        InvalidEncoding {
            encoding: to_hex(&[0; 33]),
            reason: "33 bytes".to_owned(),
        },
    ];
    let g = basepoint().to_hex();
    let invalid_hex = vec![
        InvalidEncoding {
            encoding: g.to_uppercase(),
            reason: "upper-case digits".to_owned(),
        },
        InvalidEncoding {
            encoding: format!("0x{g}"),
            reason: "0x prefix".to_owned(),
        },
        InvalidEncoding {
            encoding: g[..63].to_owned(),
            reason: "odd number of digits".to_owned(),
        },
        InvalidEncoding {
            encoding: format!("{} ", &g[..62]),
            reason: "a space".to_owned(),
        },
    ];
    let mut hash_to_group_vectors: Vec<HashToGroupVector> = RFC9496_HASH_INPUTS
        .iter()
        .map(|input| HashToGroupVector {
            input: to_hex(input.as_bytes()),
            output: hash_to_group(input.as_bytes()),
        })
        .collect();
    let generator_input = b"urne/v1/generator/H";
    hash_to_group_vectors.push(HashToGroupVector {
        input: to_hex(generator_input),
        output: hash_to_group(generator_input),
    });
    let generators = vec![GeneratorVector {
        name: "H".to_owned(),
        point: generator(b"H"),
    }];
    file(
        "encodings.json",
        &EncodingVectors {
            header: header(
                "Point and scalar encodings (valid and invalid), hex form, hash-to-group and generators",
                "spec/01-group.md, spec/02-encodings.md",
            ),
            small_multiples,
            invalid_points,
            valid_scalars,
            invalid_scalars,
            invalid_hex,
            hash_to_group: hash_to_group_vectors,
            generators,
        },
    )
}

fn elgamal() -> VectorFile {
    let mut cases = Vec::new();
    let mut total = 0;
    let key_secret = secret("elgamal/key");
    let key = SecretKey::from_secret(key_secret.duplicate());
    let encryption_key = EncryptionKey::new(key.public_key());
    for (i, message) in [0u64, 1, 2, 1000, u64::MAX].into_iter().enumerate() {
        let nonce = secret(&format!("elgamal/{i}/nonce"));
        let opening = Opening::new(message, nonce.duplicate());
        let ciphertext = encryption_key.encrypt_opening(&opening);
        if message < 1_000_000 {
            total += message;
        }
        cases.push(ElGamalCase {
            secret_key: public(&key_secret),
            public_key: key.public_key(),
            message,
            nonce: public(&nonce),
            ciphertext,
            partial_decryption: key.partial_decrypt(&ciphertext),
        });
    }
    // The sum omits the u64::MAX case so that it decrypts within a small bound.
    let mut small = CiphertextSum::default();
    for case in cases.iter().filter(|c| c.message < 1_000_000) {
        small.add(&case.ciphertext);
    }
    file(
        "elgamal.json",
        &ElGamalVectors {
            header: header(
                "Exponential ElGamal: Enc(m; r), partial decryption s·α, and the homomorphic sum of the cases with m < 10^6",
                "spec/05-elgamal.md",
            ),
            cases,
            sum: small.finish(),
            sum_message: total,
        },
    )
}

/// The kind of a 32-byte field of a proof's byte layout (spec §2.3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    /// A commitment: never the identity.
    Commitment,
    /// A ciphertext component inside a proof: the identity is allowed.
    Component,
}

/// A field of a proof's byte layout, for the tampered negatives.
#[derive(Clone)]
struct Field {
    name: String,
    offset: usize,
    kind: Kind,
}

fn field(name: impl Into<String>, offset: usize, kind: Kind) -> Field {
    Field {
        name: name.into(),
        offset,
        kind,
    }
}

fn branch_fields(prefix: &str, offset: usize) -> Vec<Field> {
    vec![
        field(format!("{prefix}.A"), offset, Kind::Commitment),
        field(format!("{prefix}.B"), offset + 32, Kind::Commitment),
        field(format!("{prefix}.c"), offset + 64, Kind::Scalar),
        field(format!("{prefix}.z"), offset + 96, Kind::Scalar),
    ]
}

/// Every way of damaging a proof's bytes: each field altered to another valid value
/// (must be rejected), a scalar set to ℓ and a point set to an invalid encoding, a
/// wrong version, a missing and an extra byte (must fail to decode).
fn proof_tampers(proof: &[u8], fields: &[Field]) -> Vec<(String, Vec<u8>, Expect)> {
    let mut out = Vec::new();
    for f in fields {
        let mut bytes = proof.to_vec();
        let slot = &mut bytes[f.offset..f.offset + 32];
        if f.kind == Kind::Scalar {
            let mut raw = [0u8; 32];
            raw.copy_from_slice(slot);
            let bumped = DalekScalar::from_bytes_mod_order(raw) + DalekScalar::ONE;
            slot.copy_from_slice(&bumped.to_bytes());
            out.push((format!("{} + 1", f.name), bytes, Expect::Reject));
        } else if let Ok(p) = Point::decode(slot) {
            slot.copy_from_slice(plus_g(&p).as_bytes());
            out.push((format!("{} + G", f.name), bytes, Expect::Reject));
        }
    }
    if let Some(f) = fields.iter().find(|f| f.kind == Kind::Scalar) {
        let mut bytes = proof.to_vec();
        bytes[f.offset..f.offset + 32].copy_from_slice(&ELL);
        out.push((
            format!("{} = ℓ (non-canonical)", f.name),
            bytes,
            Expect::DecodeError,
        ));
    }
    for kind in [Kind::Component, Kind::Commitment] {
        let Some(f) = fields.iter().find(|f| f.kind == kind) else {
            continue;
        };
        let mut bytes = proof.to_vec();
        let mut invalid = [0u8; 32];
        invalid[0] = 1; // a negative field element: never canonical
        bytes[f.offset..f.offset + 32].copy_from_slice(&invalid);
        out.push((
            format!("{} not canonical", f.name),
            bytes,
            Expect::DecodeError,
        ));
        let mut bytes = proof.to_vec();
        bytes[f.offset..f.offset + 32].fill(0);
        // The identity decodes where the spec allows it, and then fails verification.
        let expect = if kind == Kind::Commitment {
            Expect::DecodeError
        } else {
            Expect::Reject
        };
        out.push((format!("{} = identity", f.name), bytes, expect));
    }
    let mut bytes = proof.to_vec();
    bytes[0] = 2;
    out.push(("version 2".to_owned(), bytes, Expect::DecodeError));
    out.push((
        "last byte missing".to_owned(),
        proof[..proof.len() - 1].to_vec(),
        Expect::DecodeError,
    ));
    let mut bytes = proof.to_vec();
    bytes.push(0);
    out.push(("trailing byte".to_owned(), bytes, Expect::DecodeError));
    out
}

/// Negative cases common to every proof: the context and binding altered, each field of
/// the proof damaged; the statement alterations are passed in.
fn negatives<S: Clone>(
    case: &ProofCase<S>,
    fields: &[Field],
    statement_tampers: Vec<(&str, S)>,
) -> Vec<NegativeCase<S>> {
    let proof = urne_crypto::encoding::from_hex(&case.proof).unwrap_or_default();
    let negative =
        |name: String, context: String, binding: String, statement: S, proof: String, expect| {
            NegativeCase {
                name: format!("{}: {name}", case.name),
                context,
                binding,
                statement,
                proof,
                expect,
                fails_only: None,
            }
        };
    let mut out = Vec::new();
    let mut context = urne_crypto::encoding::from_hex(&case.context).unwrap_or_default();
    context[0] ^= 1;
    out.push(negative(
        "context altered".into(),
        to_hex(&context),
        case.binding.clone(),
        case.statement.clone(),
        case.proof.clone(),
        Expect::Reject,
    ));
    out.push(negative(
        "binding altered".into(),
        case.context.clone(),
        format!("{}00", case.binding),
        case.statement.clone(),
        case.proof.clone(),
        Expect::Reject,
    ));
    for (name, statement) in statement_tampers {
        out.push(negative(
            format!("statement {name}"),
            case.context.clone(),
            case.binding.clone(),
            statement,
            case.proof.clone(),
            Expect::Reject,
        ));
    }
    for (name, bytes, expect) in proof_tampers(&proof, fields) {
        out.push(negative(
            format!("proof {name}"),
            case.context.clone(),
            case.binding.clone(),
            case.statement.clone(),
            to_hex(&bytes),
            expect,
        ));
    }
    out
}

fn proof_file<S: Serialize>(
    name: &'static str,
    description: &str,
    spec: &str,
    label: &[u8],
    cases: Vec<ProofCase<S>>,
    negative: Vec<NegativeCase<S>>,
) -> VectorFile {
    file(
        name,
        &ProofVectors {
            header: header(description, spec),
            label: String::from_utf8_lossy(label).into_owned(),
            cases,
            negative,
        },
    )
}

fn schnorr() -> VectorFile {
    let mut cases = Vec::new();
    let mut negative = Vec::new();
    for (name, binding) in [
        (
            "schnorr/trustee-coefficient",
            b"trustee 1 coefficient 0".as_slice(),
        ),
        ("schnorr/empty-binding", b""),
    ] {
        let x = secret(&format!("{name}/x"));
        let X = times_g(x.expose_secret());
        let hash = context_hash(name);
        let ctx = ProofContext::new(&hash, binding);
        let ns = nonces(name, 1);
        let Ok(proof) = hazmat::schnorr_prove_with_nonces(&ctx, &x, &X, &ns) else {
            continue;
        };
        let case = ProofCase {
            name: name.to_owned(),
            context: to_hex(&hash.0),
            binding: to_hex(binding),
            statement: SchnorrStatement { X },
            witness: Witness {
                x: Some(public(&x)),
                m: None,
                r: None,
            },
            nonces: ns.iter().map(public).collect(),
            proof: to_hex(&proof.to_bytes()),
        };
        let fields = [
            field("A", 1, Kind::Commitment),
            field("z", 33, Kind::Scalar),
        ];
        negative.extend(negatives(
            &case,
            &fields,
            vec![("X + G", SchnorrStatement { X: plus_g(&X) })],
        ));
        cases.push(case);
    }
    negative.push(schnorr_forgery());
    proof_file(
        "schnorr.json",
        "Schnorr proofs of knowledge: inputs, witness, nonces and the exact proof bytes; negatives alter each input and field",
        "spec/04-proofs.md §4.2",
        urne_crypto::labels::PROOF_SCHNORR,
        cases,
        negative,
    )
}

fn forged<S>(
    name: &str,
    hash: &ContextHash,
    binding: &[u8],
    statement: S,
    proof: Vec<u8>,
    fails_only: &str,
) -> NegativeCase<S> {
    NegativeCase {
        name: name.to_owned(),
        context: to_hex(&hash.0),
        binding: to_hex(binding),
        statement,
        proof: to_hex(&proof),
        expect: Expect::Reject,
        fails_only: Some(fails_only.to_owned()),
    }
}

/// A proof of knowledge for X + G, whose log the prover does not know, with the
/// correct challenge: only E1 rejects it.
fn schnorr_forgery() -> NegativeCase<SchnorrStatement> {
    let name = "schnorr/forgery";
    let x = derive(&format!("{name}/x"));
    let claimed = plus_g(&times_g(&x));
    let hash = context_hash(name);
    let binding = b"trustee 1 coefficient 0";
    let ctx = ProofContext::new(&hash, binding);
    let w = derive(&format!("{name}/w"));
    let A = times_g(&w);
    let c = hazmat::schnorr_challenge(&ctx, &claimed, &A);
    let proof = SchnorrProof {
        A,
        z: Scalar::from_dalek(w + c.as_dalek() * x),
    };
    forged(
        "schnorr/forgery: knowledge of log(X + G) claimed with x; fails only E1",
        &hash,
        binding,
        SchnorrStatement { X: claimed },
        proof.to_bytes(),
        "E1",
    )
}

/// DLEQ proofs for a statement that is false in one of its two relations, with the
/// correct challenge: a wrong decryption share (only E2 rejects it) and a share proven
/// against the wrong verification key (only E1 rejects it).
fn dleq_forgeries() -> Vec<NegativeCase<DleqStatementVector>> {
    let name = "dleq/forgery";
    let x = derive(&format!("{name}/x"));
    let w = derive(&format!("{name}/w"));
    let G1 = basepoint();
    let G2 = times_g(&derive(&format!("{name}/alpha")));
    let X1 = times_g(&x);
    let X2 = Point::from_ristretto(G2.as_ristretto() * x);
    let hash = context_hash(name);
    let binding = b"trustee 2";
    let ctx = ProofContext::new(&hash, binding);
    let mut out = Vec::new();
    for (what, statement, check) in [
        (
            "a share D + G that is not x·α (the wrong decryption share); fails only E2",
            DleqStatementVector {
                G1,
                X1,
                G2,
                X2: plus_g(&X2),
            },
            "E2",
        ),
        (
            "the share x·α proven against the key X1 + G, not x·G; fails only E1",
            DleqStatementVector {
                G1,
                X1: plus_g(&X1),
                G2,
                X2,
            },
            "E1",
        ),
    ] {
        let A1 = Point::from_ristretto(G1.as_ristretto() * w);
        let A2 = Point::from_ristretto(G2.as_ristretto() * w);
        let s = DleqStatement {
            G1: &statement.G1,
            X1: &statement.X1,
            G2: &statement.G2,
            X2: &statement.X2,
        };
        let c = hazmat::dleq_challenge(&ctx, &s, &A1, &A2);
        let proof = DleqProof {
            A1,
            A2,
            z: Scalar::from_dalek(w + c.as_dalek() * x),
        };
        out.push(forged(
            &format!("{name}: {what}"),
            &hash,
            binding,
            statement,
            proof.to_bytes(),
            check,
        ));
    }
    out
}

/// The decryption share of a contest nobody voted in: α = O, so the share and A2 are O
/// (spec/04-proofs.md §4.3.1).
fn dleq_empty_contest() -> Option<(
    ProofCase<DleqStatementVector>,
    Vec<NegativeCase<DleqStatementVector>>,
)> {
    let name = "dleq/empty-contest-share";
    let x = secret(&format!("{name}/x"));
    let G1 = basepoint();
    let X1 = times_g(x.expose_secret());
    let O = Point::identity();
    let hash = context_hash(name);
    let binding = b"trustee 1";
    let ctx = ProofContext::new(&hash, binding);
    let ns = nonces(name, 1);
    let statement = DleqStatement {
        G1: &G1,
        X1: &X1,
        G2: &O,
        X2: &O,
    };
    let proof = hazmat::dleq_prove_with_nonces(&ctx, &statement, &x, &ns).ok()?;
    let vector = DleqStatementVector {
        G1,
        X1,
        G2: O,
        X2: O,
    };
    let case = ProofCase {
        name: name.to_owned(),
        context: to_hex(&hash.0),
        binding: to_hex(binding),
        statement: vector.clone(),
        witness: Witness {
            x: Some(public(&x)),
            m: None,
            r: None,
        },
        nonces: ns.iter().map(public).collect(),
        proof: to_hex(&proof.to_bytes()),
    };
    let mut negative = Vec::new();
    // A share of the empty contest other than O: the proof must not carry over.
    negative.push(NegativeCase {
        name: format!("{name}: statement X2 = G (a non-identity share of α = O)"),
        context: case.context.clone(),
        binding: case.binding.clone(),
        statement: DleqStatementVector {
            X2: basepoint(),
            ..vector.clone()
        },
        proof: case.proof.clone(),
        expect: Expect::Reject,
        fails_only: None,
    });
    let mut bytes = proof.to_bytes();
    bytes[33..65].copy_from_slice(basepoint().as_bytes());
    negative.push(NegativeCase {
        name: format!("{name}: proof A2 = G instead of O"),
        context: case.context.clone(),
        binding: case.binding.clone(),
        statement: vector,
        proof: to_hex(&bytes),
        expect: Expect::Reject,
        fails_only: None,
    });
    Some((case, negative))
}

fn dleq() -> VectorFile {
    let name = "dleq/decryption-share";
    let x = secret(&format!("{name}/x"));
    let G1 = basepoint();
    let G2 = times_g(&derive(&format!("{name}/alpha")));
    let X1 = times_g(x.expose_secret());
    let X2 = Point::from_ristretto(G2.as_ristretto() * x.expose_secret());
    let hash = context_hash(name);
    let binding = b"trustee 2";
    let ctx = ProofContext::new(&hash, binding);
    let ns = nonces(name, 1);
    let statement = DleqStatement {
        G1: &G1,
        X1: &X1,
        G2: &G2,
        X2: &X2,
    };
    let mut cases = Vec::new();
    let mut negative = Vec::new();
    if let Ok(proof) = hazmat::dleq_prove_with_nonces(&ctx, &statement, &x, &ns) {
        let vector = DleqStatementVector { G1, X1, G2, X2 };
        let case = ProofCase {
            name: name.to_owned(),
            context: to_hex(&hash.0),
            binding: to_hex(binding),
            statement: vector.clone(),
            witness: Witness {
                x: Some(public(&x)),
                m: None,
                r: None,
            },
            nonces: ns.iter().map(public).collect(),
            proof: to_hex(&proof.to_bytes()),
        };
        let tampers = vec![
            (
                "G1 + G",
                DleqStatementVector {
                    G1: plus_g(&G1),
                    ..vector.clone()
                },
            ),
            (
                "X1 + G",
                DleqStatementVector {
                    X1: plus_g(&X1),
                    ..vector.clone()
                },
            ),
            (
                "G2 + G",
                DleqStatementVector {
                    G2: plus_g(&G2),
                    ..vector.clone()
                },
            ),
            (
                "X2 + G",
                DleqStatementVector {
                    X2: plus_g(&X2),
                    ..vector.clone()
                },
            ),
        ];
        let fields = [
            field("A1", 1, Kind::Commitment),
            field("A2", 33, Kind::Commitment),
            field("z", 65, Kind::Scalar),
        ];
        negative = negatives(&case, &fields, tampers);
        cases.push(case);
    }
    if let Some((case, more)) = dleq_empty_contest() {
        cases.push(case);
        negative.extend(more);
    }
    negative.extend(dleq_forgeries());
    proof_file(
        "dleq.json",
        "Chaum–Pedersen DLEQ proofs: inputs, witness, nonces and the exact proof bytes; negatives alter each input and field",
        "spec/04-proofs.md §4.3",
        urne_crypto::labels::PROOF_DLEQ,
        cases,
        negative,
    )
}

fn election_key(name: &str) -> EncryptionKey {
    EncryptionKey::new(SecretKey::from_secret(secret(&format!("{name}/election-key"))).public_key())
}

fn range() -> VectorFile {
    let mut cases = Vec::new();
    let mut negative = Vec::new();
    for (name, message, min, max) in [
        ("range/selection-0", 0u64, 0u64, 1u64),
        ("range/selection-1", 1, 0, 1),
        ("range/cumulative-7-of-0..10", 7, 0, 10),
        ("range/3-in-2..4", 3, 2, 4),
    ] {
        let key = election_key(name);
        let nonce = secret(&format!("{name}/r"));
        let opening = Opening::new(message, nonce.duplicate());
        let ciphertext = key.encrypt_opening(&opening);
        let hash = context_hash(name);
        let binding = b"contest 1 option 1";
        let ctx = ProofContext::new(&hash, binding);
        let Ok(range) = ValueRange::new(min, max) else {
            continue;
        };
        let ns = nonces(name, 2 * range.len());
        let Ok(proof) =
            hazmat::range_prove_with_nonces(&ctx, &key, &ciphertext, &opening, range, &ns)
        else {
            continue;
        };
        let K = *key.public_key();
        let statement = RangeStatementVector {
            K,
            ciphertext,
            min,
            max,
        };
        let case = ProofCase {
            name: name.to_owned(),
            context: to_hex(&hash.0),
            binding: to_hex(binding),
            statement: statement.clone(),
            witness: Witness {
                x: None,
                m: Some(message),
                r: Some(public(&nonce)),
            },
            nonces: ns.iter().map(public).collect(),
            proof: to_hex(&proof.to_bytes()),
        };
        let mut tampers = vec![
            (
                "K + G",
                RangeStatementVector {
                    K: other_key(&K),
                    ..statement.clone()
                },
            ),
            (
                "alpha + G",
                RangeStatementVector {
                    ciphertext: Ciphertext::new(plus_g(ciphertext.alpha()), *ciphertext.beta()),
                    ..statement.clone()
                },
            ),
            (
                "beta + G",
                RangeStatementVector {
                    ciphertext: Ciphertext::new(*ciphertext.alpha(), plus_g(ciphertext.beta())),
                    ..statement.clone()
                },
            ),
            (
                "min and max + 1",
                RangeStatementVector {
                    min: min + 1,
                    max: max + 1,
                    ..statement.clone()
                },
            ),
        ];
        if min > 0 {
            tampers.push((
                "min − 1",
                RangeStatementVector {
                    min: min - 1,
                    ..statement.clone()
                },
            ));
        }
        let fields: Vec<Field> = (0..range.len())
            .flat_map(|i| branch_fields(&format!("branches[{i}]"), 1 + 128 * i))
            .collect();
        negative.extend(negatives(&case, &fields, tampers));
        cases.push(case);
    }
    negative.extend(range_forgeries());
    proof_file(
        "range.json",
        "Disjunctive range proofs for [min, max]: inputs, opening, nonces (t0, s0, t1, s1, …) and the exact proof bytes; negatives alter each input and field",
        "spec/04-proofs.md §4.4",
        urne_crypto::labels::PROOF_CDS_RANGE,
        cases,
        negative,
    )
}

/// Range proofs that fail exactly one check each (spec/07-vectors.md §7.2).
fn range_forgeries() -> Vec<NegativeCase<RangeStatementVector>> {
    let binding = b"contest 1 option 1";
    let mut out = Vec::new();
    // (check, what, message, α with another nonce, branch values, real branch)
    type Plan = (
        &'static str,
        &'static str,
        u64,
        bool,
        Vec<u64>,
        Option<usize>,
    );
    let cases: [Plan; 4] = [
        // α = r′·G but β = 0·G + r·K: the real branch answers with r, so E2 holds and
        // E1 does not. The ciphertext decrypts to (r − r′)·K: not a vote at all.
        (
            "E1",
            "α made with another nonce than β",
            0,
            true,
            vec![0, 1],
            Some(0),
        ),
        // Enc(5) claimed in [0, 1]: answering branch 1 with r satisfies E1, not E2.
        (
            "E2",
            "Enc(5) claimed in [0, 1]",
            5,
            false,
            vec![0, 1],
            Some(1),
        ),
        // Enc(5) claimed in [0, 1] with every branch simulated: every equation holds,
        // only the challenges do not sum to c.
        (
            "challenge-sum",
            "Enc(5) claimed in [0, 1], every branch simulated",
            5,
            false,
            vec![0, 1],
            None,
        ),
        // Enc(2) claimed in [0, 1] by a proof with a third branch for the value 2.
        (
            "branch-count",
            "Enc(2) claimed in [0, 1] with a branch for 2",
            2,
            false,
            vec![0, 1, 2],
            Some(2),
        ),
    ];
    for (check, what, message, split_nonce, values, real) in cases {
        let name = format!("range/forgery-{check}");
        let key = election_key(&name);
        let K = *key.public_key();
        let r = derive(&format!("{name}/r"));
        let mut ciphertext = forge::encrypt(&K, DalekScalar::from(message), r);
        if split_nonce {
            let other = derive(&format!("{name}/r-prime"));
            ciphertext = Ciphertext::new(times_g(&other), *ciphertext.beta());
        }
        let hash = context_hash(&name);
        let ctx = ProofContext::new(&hash, binding);
        let real = real.map(|index| forge::Real::honest(index, r));
        let proof = forge::range_proof(&ctx, &name, &K, &ciphertext, (0, 1), &values, real);
        out.push(forged(
            &format!("{name}: {what}; fails only {check}"),
            &hash,
            binding,
            RangeStatementVector {
                K,
                ciphertext,
                min: 0,
                max: 1,
            },
            proof.to_bytes(),
            check,
        ));
    }
    out
}

/// Bit range proofs that fail exactly one check each (spec/07-vectors.md §7.2).
fn bit_range_forgeries() -> Vec<NegativeCase<BitRangeStatementVector>> {
    let binding = b"contest 2 budget";
    let mut out = Vec::new();
    for check in ["R1", "R2", "E1", "E2", "challenge-sum", "bit-count"] {
        let name = format!("bit-range/forgery-{check}");
        let key = election_key(&name);
        let K = *key.public_key();
        let r = derive(&format!("{name}/r"));
        let hash = context_hash(&name);
        let ctx = ProofContext::new(&hash, binding);
        let bit = |b: u64, r_i: DalekScalar| forge::encrypt(&K, DalekScalar::from(b), r_i);
        // (what, the statement's ciphertext, its bit count, the bits as proven)
        let (what, ciphertext, bits, forged_bits) = match check {
            "R1" | "R2" => {
                // Honest bits of 3 in 2 bits, for a statement whose α (R1) or β (R2) is
                // moved: with R2, Enc(3 + 4) passes as below 4.
                let nonces = forge::bit_nonces(&name, r, 2);
                let honest = forge::encrypt(&K, DalekScalar::from(3u64), r);
                let ciphertext = if check == "R1" {
                    Ciphertext::new(plus_g(honest.alpha()), *honest.beta())
                } else {
                    let moved = Point::from_ristretto(
                        honest.beta().as_ristretto()
                            + basepoint().as_ristretto() * DalekScalar::from(4u64),
                    );
                    Ciphertext::new(*honest.alpha(), moved)
                };
                let forged_bits = (0..2)
                    .map(|i| forge::ForgedBit {
                        ciphertext: bit(1, nonces[i]),
                        real: Some(forge::Real::honest(1, nonces[i])),
                    })
                    .collect();
                let what = if check == "R1" {
                    "honest bits of 3 for a statement with α + G"
                } else {
                    "honest bits of 3 for Enc(7): 7 passed off as below 4"
                };
                (what, ciphertext, 2u64, forged_bits)
            }
            "E1" => {
                // Bits of 3 whose αᵢ use other nonces than their βᵢ, compensating so that
                // Σ 2^i·αᵢ = α still holds: E1 fails in each bit, nothing else does.
                let nonces = forge::bit_nonces(&name, r, 2);
                let delta = derive(&format!("{name}/delta"));
                let alpha_nonces = [nonces[0] + delta + delta, nonces[1] - delta];
                let forged_bits = (0..2)
                    .map(|i| {
                        let honest = bit(1, nonces[i]);
                        forge::ForgedBit {
                            ciphertext: Ciphertext::new(times_g(&alpha_nonces[i]), *honest.beta()),
                            real: Some(forge::Real::honest(1, nonces[i])),
                        }
                    })
                    .collect();
                let ciphertext = forge::encrypt(&K, DalekScalar::from(3u64), r);
                (
                    "bits of 3 whose α_i and β_i use different nonces",
                    ciphertext,
                    2,
                    forged_bits,
                )
            }
            "E2" | "challenge-sum" => {
                // 4 in 2 bits as (0, 2): bit 1 encrypts 2. For E2 its branch 1 answers with
                // r₁ (E1 holds, E2 does not); for the challenge sum both of its branches
                // are simulated (every equation holds).
                let nonces = forge::bit_nonces(&name, r, 2);
                let second = if check == "E2" {
                    Some(forge::Real::honest(1, nonces[1]))
                } else {
                    None
                };
                let forged_bits = vec![
                    forge::ForgedBit {
                        ciphertext: bit(0, nonces[0]),
                        real: Some(forge::Real::honest(0, nonces[0])),
                    },
                    forge::ForgedBit {
                        ciphertext: bit(2, nonces[1]),
                        real: second,
                    },
                ];
                let ciphertext = forge::encrypt(&K, DalekScalar::from(4u64), r);
                (
                    "Enc(4) claimed below 4 with bits (0, 2)",
                    ciphertext,
                    2,
                    forged_bits,
                )
            }
            _ => {
                // Enc(4) claimed below 4 (2 bits) by an honest 3-bit proof of 4.
                let nonces = forge::bit_nonces(&name, r, 3);
                let forged_bits = [0u64, 0, 1]
                    .iter()
                    .zip(&nonces)
                    .map(|(b, r_i)| forge::ForgedBit {
                        ciphertext: bit(*b, *r_i),
                        real: Some(forge::Real::honest(*b as usize, *r_i)),
                    })
                    .collect();
                let ciphertext = forge::encrypt(&K, DalekScalar::from(4u64), r);
                (
                    "Enc(4) claimed below 2^2 by 3 honest bits",
                    ciphertext,
                    2,
                    forged_bits,
                )
            }
        };
        let proof = forge::bit_range_proof(&ctx, &name, &K, &ciphertext, bits, forged_bits);
        out.push(forged(
            &format!("{name}: {what}; fails only {check}"),
            &hash,
            binding,
            BitRangeStatementVector {
                K,
                ciphertext,
                bits,
            },
            proof.to_bytes(),
            check,
        ));
    }
    out
}

fn other_key(K: &PublicKey) -> PublicKey {
    PublicKey::from_point(plus_g(K.point())).unwrap_or(*K)
}

fn bit_range() -> VectorFile {
    let mut cases = Vec::new();
    let mut negative = Vec::new();
    for (name, message, bits, with_negatives) in [
        ("bit-range/11-in-4-bits", 11u64, 4usize, true),
        ("bit-range/budget-40000-in-16-bits", 40_000, 16, false),
        ("bit-range/0-in-1-bit", 0, 1, false),
    ] {
        let key = election_key(name);
        let nonce = secret(&format!("{name}/r"));
        let opening = Opening::new(message, nonce.duplicate());
        let ciphertext = key.encrypt_opening(&opening);
        let hash = context_hash(name);
        let binding = b"contest 2 budget";
        let ctx = ProofContext::new(&hash, binding);
        let ns = nonces(name, (bits - 1) + 4 * bits);
        let Ok(proof) =
            hazmat::bit_range_prove_with_nonces(&ctx, &key, &ciphertext, &opening, bits, &ns)
        else {
            continue;
        };
        let K = *key.public_key();
        let statement = BitRangeStatementVector {
            K,
            ciphertext,
            bits: bits as u64,
        };
        let case = ProofCase {
            name: name.to_owned(),
            context: to_hex(&hash.0),
            binding: to_hex(binding),
            statement: statement.clone(),
            witness: Witness {
                x: None,
                m: Some(message),
                r: Some(public(&nonce)),
            },
            nonces: ns.iter().map(public).collect(),
            proof: to_hex(&proof.to_bytes()),
        };
        if with_negatives {
            let tampers = vec![
                (
                    "K + G",
                    BitRangeStatementVector {
                        K: other_key(&K),
                        ..statement.clone()
                    },
                ),
                (
                    "alpha + G",
                    BitRangeStatementVector {
                        ciphertext: Ciphertext::new(plus_g(ciphertext.alpha()), *ciphertext.beta()),
                        ..statement.clone()
                    },
                ),
                (
                    "beta + G",
                    BitRangeStatementVector {
                        ciphertext: Ciphertext::new(*ciphertext.alpha(), plus_g(ciphertext.beta())),
                        ..statement.clone()
                    },
                ),
                (
                    "bits + 1",
                    BitRangeStatementVector {
                        bits: bits as u64 + 1,
                        ..statement.clone()
                    },
                ),
                (
                    "bits − 1",
                    BitRangeStatementVector {
                        bits: bits as u64 - 1,
                        ..statement.clone()
                    },
                ),
            ];
            let fields: Vec<Field> = (0..bits)
                .flat_map(|i| {
                    let base = 1 + 320 * i;
                    let mut f = vec![
                        field(format!("bits[{i}].alpha"), base, Kind::Component),
                        field(format!("bits[{i}].beta"), base + 32, Kind::Component),
                    ];
                    f.extend(branch_fields(&format!("bits[{i}].branches[0]"), base + 64));
                    f.extend(branch_fields(&format!("bits[{i}].branches[1]"), base + 192));
                    f
                })
                .collect();
            negative.extend(negatives(&case, &fields, tampers));
        }
        cases.push(case);
    }
    negative.extend(bit_range_forgeries());
    proof_file(
        "bit_range.json",
        "Bit-decomposition range proofs for [0, 2^k): inputs, opening, nonces (r0 … r_{k-2}, then t, s per branch per bit) and the exact proof bytes; negatives alter each input and field",
        "spec/04-proofs.md §4.5",
        urne_crypto::labels::PROOF_BIT_RANGE,
        cases,
        negative,
    )
}

fn batch() -> VectorFile {
    let mut batches = Vec::new();
    for (name, size, bad) in [
        ("batch/all-valid", 8usize, vec![]),
        ("batch/one-bad", 8, vec![5usize]),
        ("batch/two-bad", 9, vec![0, 6]),
    ] {
        let key = election_key(name);
        let hash = context_hash(name);
        let Ok(range) = ValueRange::new(0, 1) else {
            continue;
        };
        let mut items = Vec::new();
        for i in 0..size {
            let binding = format!("item {i}");
            let ctx = ProofContext::new(&hash, binding.as_bytes());
            let opening = Opening::new((i % 2) as u64, secret(&format!("{name}/{i}/r")));
            let ciphertext = key.encrypt_opening(&opening);
            let ns = nonces(&format!("{name}/{i}"), 4);
            let Ok(proof) =
                hazmat::range_prove_with_nonces(&ctx, &key, &ciphertext, &opening, range, &ns)
            else {
                continue;
            };
            let mut proof = proof;
            if bad.contains(&i) {
                // A response off by one: decodes, fails its equation.
                proof.branches[1].z =
                    Scalar::from_dalek(proof.branches[1].z.as_dalek() + DalekScalar::ONE);
            }
            items.push(BatchItem {
                ciphertext,
                proof: to_hex(&proof.to_bytes()),
            });
        }
        batches.push(BatchCase {
            name: name.to_owned(),
            context: to_hex(&hash.0),
            K: *key.public_key(),
            min: 0,
            max: 1,
            items,
            failing: bad,
            defeats: None,
        });
    }
    batches.extend(batch_forgeries());
    file(
        "batch.json",
        &BatchVectors {
            header: header(
                "Batches of 0/1 range proofs; a verifier must accept the valid batch and name exactly the failing items of the others",
                "spec/06-batch.md",
            ),
            batches,
        },
    )
}

/// Batches whose false proofs cancel when a verifier weights badly (spec/06-batch.md
/// step 1): a pair whose errors are +G and −G (all weights 1 accepts it), and one proof
/// whose two equations are off by +G and −G (one weight per proof accepts it).
fn batch_forgeries() -> Vec<BatchCase> {
    let mut out = Vec::new();
    for (name, offsets, defeats) in [
        (
            "batch/cancelling-pair",
            vec![(2usize, (g(), O())), (5, (-g(), O()))],
            "weights all equal to 1: items 2 and 5 are off by −G and +G in E1",
        ),
        (
            "batch/cancelling-equations",
            vec![(3usize, (g(), -g()))],
            "one weight per proof: item 3's E1 and E2 are off by −G and +G",
        ),
    ] {
        let key = election_key(name);
        let K = *key.public_key();
        let hash = context_hash(name);
        let Ok(range) = ValueRange::new(0, 1) else {
            continue;
        };
        let mut items = Vec::new();
        for i in 0..6usize {
            let binding = format!("item {i}");
            let ctx = ProofContext::new(&hash, binding.as_bytes());
            let message = (i % 2) as u64;
            let r = derive(&format!("{name}/{i}/r"));
            let ciphertext = forge::encrypt(&K, DalekScalar::from(message), r);
            let mut real = forge::Real::honest(message as usize, r);
            if let Some((_, (a, b))) = offsets.iter().find(|(index, _)| *index == i) {
                real.a_offset = *a;
                real.b_offset = *b;
            }
            let proof = forge::range_proof(
                &ctx,
                &format!("{name}/{i}"),
                &K,
                &ciphertext,
                (range.min(), range.max()),
                &[0, 1],
                Some(real),
            );
            items.push(BatchItem {
                ciphertext,
                proof: to_hex(&proof.to_bytes()),
            });
        }
        out.push(BatchCase {
            name: name.to_owned(),
            context: to_hex(&hash.0),
            K,
            min: 0,
            max: 1,
            items,
            failing: offsets.iter().map(|(i, _)| *i).collect(),
            defeats: Some(defeats.to_owned()),
        });
    }
    out
}

#[allow(non_snake_case)]
fn O() -> curve25519_dalek::ristretto::RistrettoPoint {
    <curve25519_dalek::ristretto::RistrettoPoint as curve25519_dalek::traits::Identity>::identity()
}

fn dlog() -> VectorFile {
    let bound = 100_000u64;
    let cases = [0u64, 1, 2, 316, 317, 99_999, 100_000, 100_001, 1 << 40]
        .into_iter()
        .map(|m| DlogCase {
            point: times_g(&DalekScalar::from(m)),
            log: (m <= bound).then_some(m),
        })
        .chain(std::iter::once(DlogCase {
            point: Point::from_ristretto(-basepoint().as_ristretto()),
            log: None,
        }))
        .collect();
    file(
        "dlog.json",
        &DlogVectors {
            header: header(
                "Discrete logs within a bound: each point's log in [0, bound], or null when it has none there",
                "spec/05-elgamal.md §5.4",
            ),
            bound,
            cases,
        },
    )
}

/// Every vector file, in a fixed order.
pub fn generate() -> Vec<VectorFile> {
    vec![
        encodings(),
        elgamal(),
        schnorr(),
        dleq(),
        range(),
        bit_range(),
        batch(),
        dlog(),
        crate::ceremony::generate(),
        crate::ballots::generate(),
        crate::tally::generate(),
        crate::budget::generate(),
        crate::credentials::generate(),
        crate::petition::generate(),
        crate::triptych::generate(),
    ]
}
