//! vectors/triptych.json (spec/08-triptych.md §8.11): Triptych signatures recomputed
//! from their nonces, and forgeries that each fail exactly one check.
// The generator stops at the first vector it cannot make as described: every expect and
// assert below is on our own fixed inputs (a bug here, never input from outside). The
// checker reads files and returns errors instead.
#![allow(clippy::expect_used, clippy::panic, non_snake_case)]

use std::path::Path;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use serde::{Deserialize, Serialize};
use urne_crypto::encoding::{from_hex, to_hex};
use urne_crypto::hazmat;
use urne_crypto::triptych::{
    Attribute, BatchVerifier, Error, Ring, Signature, Zeroizing, linking_base, verify,
    verify_disclosing,
};
use urne_crypto::{Point, Scalar, SecretScalar};

use crate::check::{Report, read};
use crate::generate::{derive, file, header};
use crate::schema::Header;

const FILE: &str = "triptych.json";

/// The file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriptychVectors {
    /// Description and spec section.
    #[serde(flatten)]
    pub header: Header,
    /// The transcript label.
    pub label: String,
    /// Honest signatures.
    pub cases: Vec<TriptychCase>,
    /// Signatures that must be refused.
    pub negative: Vec<TriptychNegative>,
    /// Signatures that disclose an attribute (spec/08 §8.12), over the ring of a case.
    #[serde(default)]
    pub disclosing: Vec<TriptychDisclosingCase>,
    /// Batches (spec/08 §8.9) whose false signatures cancel under equal weights.
    #[serde(default)]
    pub batches: Vec<TriptychBatch>,
}

/// A batch over the ring and linking base of case `over`: a batch verifier must name
/// exactly the signatures at `failing` (push order), each failing on its own.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriptychBatch {
    /// Batch name.
    pub name: String,
    /// The case whose ring and linking base the batch is over.
    pub over: String,
    /// The signatures, in push order.
    pub items: Vec<TriptychBatchItem>,
    /// The positions a correct verifier names.
    pub failing: Vec<usize>,
    /// The faulty weighting that would accept the batch.
    pub defeats: String,
}

/// One signature of a batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriptychBatchItem {
    /// The context bytes, hex.
    pub context: String,
    /// The signature bytes, hex.
    pub signature: String,
}

/// A disclosing signature: the signer of case `over` also proves that the commitment at
/// its index opens to `attribute_base` (spec/08 §8.12).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriptychDisclosingCase {
    /// Case name.
    pub name: String,
    /// The case whose ring, linking base, index and secret it uses.
    pub over: String,
    /// The attribute commitments C_k, one per key, in ring order.
    pub commitments: Vec<Point>,
    /// Their digest (§8.3's, over the commitments), hex.
    pub commitments_digest: String,
    /// Q, the disclosed value's generator.
    pub attribute_base: Point,
    /// The blinding b with C_l = Q + b·H.
    pub blinding: Scalar,
    /// The nonces in the order of §8.12.
    pub nonces: Vec<Scalar>,
    /// The context bytes, hex.
    pub context: String,
    /// The challenge ξ.
    pub challenge: Scalar,
    /// The signature bytes, hex.
    pub signature: String,
}

/// One honest signature and everything needed to recompute it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriptychCase {
    /// Case name.
    pub name: String,
    /// The ring's keys, in order.
    pub ring: Vec<Point>,
    /// Its digest (§8.3), hex.
    pub ring_digest: String,
    /// n and m (§8.2).
    pub n: usize,
    /// Number of digits.
    pub m: usize,
    /// The snapshot id U is derived from (spec/31 §31.4), hex.
    pub snapshot_id: String,
    /// The context id U is derived from, hex.
    pub context_id: String,
    /// U (§8.5).
    pub linking_base: Point,
    /// The signer's index l.
    pub index: usize,
    /// The signer's secret r.
    pub secret: Scalar,
    /// The nonces in the order of §8.7.
    pub nonces: Vec<Scalar>,
    /// The context bytes, hex.
    pub context: String,
    /// The challenge ξ.
    pub challenge: Scalar,
    /// The tag J = r⁻¹·U.
    pub tag: Point,
    /// The signature bytes, hex.
    pub signature: String,
}

/// A signature that must be refused, over the ring and U of a case.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriptychNegative {
    /// Case name.
    pub name: String,
    /// The honest case whose ring and linking base it is checked against.
    pub over: String,
    /// The context bytes, hex.
    pub context: String,
    /// The signature bytes, hex.
    pub signature: String,
    /// What was done to it.
    pub description: String,
    /// The one check it fails: `E1`…`E5`, or `decode <field>`.
    pub fails_only: String,
    /// For a disclosing case, the value's generator Q claimed, when it is not the case's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_base: Option<Point>,
}

fn scalar(name: &str) -> DalekScalar {
    derive(&format!("triptych/{name}"))
}

fn bytes32(name: &str) -> [u8; 32] {
    scalar(name).to_bytes()
}

pub(crate) fn nonces(name: &str, count: usize) -> Vec<SecretScalar> {
    (0..count)
        .map(|i| SecretScalar::from_dalek(scalar(&format!("{name}/nonce/{i}"))))
        .collect()
}

struct Made {
    case: TriptychCase,
    ring: Ring,
    U: RistrettoPoint,
    secrets: Vec<DalekScalar>,
}

fn make_case(name: &str, log2: u32, index: usize) -> Made {
    let size = 1usize << log2;
    let secrets: Vec<DalekScalar> = (0..size)
        .map(|k| scalar(&format!("{name}/key/{k}")))
        .collect();
    let keys: Vec<RistrettoPoint> = secrets
        .iter()
        .map(|r| curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * r)
        .collect();
    let ring = Ring::new(keys.clone()).expect("ring");
    let root = bytes32(&format!("{name}/snapshot-root"));
    let context_id = bytes32(&format!("{name}/context-id"));
    let U = linking_base(&root, &context_id);
    let context =
        format!("{name}: context id, snapshot id, bucket, text hash, one-time key").into_bytes();
    let p = ring.parameters();
    let nonces = nonces(name, p.nonce_count());
    let secret = Zeroizing::new(secrets[index]);
    let signature = hazmat::triptych_sign_with_nonces(&ring, index, &secret, &U, &context, &nonces)
        .expect("sign");
    let challenge = hazmat::triptych_challenge(&ring, &U, &context, &signature);
    let case = TriptychCase {
        name: name.to_owned(),
        ring: keys.into_iter().map(Point::from_ristretto).collect(),
        ring_digest: to_hex(&ring.digest()),
        n: p.n(),
        m: p.m(),
        snapshot_id: to_hex(&root),
        context_id: to_hex(&context_id),
        linking_base: Point::from_ristretto(U),
        index,
        secret: Scalar::from_dalek(secrets[index]),
        nonces: nonces
            .iter()
            .map(|n| Scalar::from_dalek(*n.expose_secret()))
            .collect(),
        context: to_hex(&context),
        challenge,
        tag: Point::from_ristretto(U * secrets[index].invert()),
        signature: to_hex(&signature.to_bytes()),
    };
    Made {
        case,
        ring,
        U,
        secrets,
    }
}

/// The verdict as `fails_only` names it: `ok`, `E1`…`E4`, `decode <field>`, or another
/// check's name.
fn verdict(ring: &Ring, U: &RistrettoPoint, context: &[u8], signature: &[u8]) -> String {
    let decoded = match Signature::from_bytes(signature, ring.parameters()) {
        Ok(s) => s,
        Err(Error::Decode(e)) => return format!("decode {}", e.field()),
        Err(e) => return e.spec_check().to_owned(),
    };
    match verify(ring, U, context, &decoded) {
        Ok(()) => "Accepted".to_owned(),
        Err(e) => e.spec_check().to_owned(),
    }
}

fn negatives(made: &Made, other: &Made) -> Vec<TriptychNegative> {
    let case = &made.case;
    let context = from_hex(&case.context).expect("hex");
    let honest = from_hex(&case.signature).expect("hex");
    let p = made.ring.parameters();
    let mut out = Vec::new();
    let mut push =
        |name: &str, context: &[u8], signature: Vec<u8>, description: &str, expect: &str| {
            let found = verdict(&made.ring, &made.U, context, &signature);
            assert_eq!(found, expect, "{name}");
            out.push(TriptychNegative {
                name: format!("{}/{name}", case.name),
                over: case.name.clone(),
                context: to_hex(context),
                signature: to_hex(&signature),
                description: description.to_owned(),
                fails_only: expect.to_owned(),
                attribute_base: None,
            });
        };
    let len = honest.len();
    let z_A = len - 96;
    let z_C = len - 64;
    let bump = |bytes: &mut [u8], at: usize| {
        let value =
            DalekScalar::from_canonical_bytes(bytes[at..at + 32].try_into().expect("32 bytes"))
                .expect("canonical");
        bytes[at..at + 32].copy_from_slice(&(value + DalekScalar::ONE).to_bytes());
    };
    let mut bad = honest.clone();
    bump(&mut bad, z_A);
    push(
        "z_A-plus-one",
        &context,
        bad,
        "z_A + 1: only E1 involves z_A",
        "E1",
    );
    let mut bad = honest.clone();
    bump(&mut bad, z_C);
    push(
        "z_C-plus-one",
        &context,
        bad,
        "z_C + 1: only E2 involves z_C",
        "E2",
    );

    let nonces = nonces(&format!("{}/forgery", case.name), p.nonce_count());
    let stranger = Zeroizing::new(scalar(&format!("{}/stranger", case.name)));
    let signer = Zeroizing::new(made.secrets[case.index]);
    let forged = hazmat::triptych_forge_with_nonces(
        &made.ring, case.index, &stranger, &stranger, &made.U, &context, &nonces,
    )
    .expect("forge");
    push(
        "secret-not-in-ring",
        &context,
        forged.to_bytes(),
        "signed with a secret that is not the key at the index (and its honest tag)",
        "E3",
    );
    let forged = hazmat::triptych_forge_with_nonces(
        &made.ring, case.index, &signer, &stranger, &made.U, &context, &nonces,
    )
    .expect("forge");
    push(
        "tag-of-another-secret",
        &context,
        forged.to_bytes(),
        "the true signer with a tag made from another secret (to sign twice)",
        "E4",
    );

    let mut bad = honest.clone();
    bad[len - 32..].fill(0xff);
    push(
        "z-not-canonical",
        &context,
        bad,
        "z = 2^256 − 1 ≥ ℓ",
        "decode z",
    );
    let mut bad = honest.clone();
    plus_order(&mut bad[len - 32..]);
    push(
        "z-plus-order",
        &context,
        bad,
        "z + ℓ: the honest z, not reduced (below 2^253, refused for canonicity alone)",
        "decode z",
    );
    let mut bad = honest.clone();
    bad[1..33].fill(0);
    push(
        "tag-identity",
        &context,
        bad,
        "J = O (32 zero bytes)",
        "decode J",
    );
    let mut bad = honest.clone();
    bad[1 + 32 * 5..1 + 32 * 6].fill(0xff);
    push(
        "X0-not-canonical",
        &context,
        bad,
        "X[0] is not a canonical encoding",
        "decode X[0]",
    );
    push(
        "truncated",
        &context,
        honest[..len - 1].to_vec(),
        "the last byte cut",
        "decode length",
    );
    let mut bad = honest.clone();
    bad[0] = 0x02;
    push(
        "version-2",
        &context,
        bad,
        "version byte 0x02, every other byte honest",
        "decode version",
    );
    for (name, signature, description, expect) in structural(made, &context) {
        push(&name, &context, signature, &description, expect);
    }
    push(
        "other-ring-size",
        &from_hex(&other.case.context).expect("hex"),
        from_hex(&other.case.signature).expect("hex"),
        "an honest signature over a ring of another size",
        "decode length",
    );
    out
}

/// (name, the altered row's entries as (position, value), description).
type StructuralRow = (&'static str, Vec<(usize, DalekScalar)>, &'static str);

/// Signatures whose σ is not the one-hot digits of an index (spec/08 §8.11): each row
/// still sums to 1 (the verifier derives f_{j,0} from that), the secret E3 and E4 answer
/// for is Σ_k (Π_j σ_{j,k_j})·r_k, so E1, E3 and E4 hold and only E2 sees the entry that
/// is not a bit; and a B committed to a row with no 1, which only E1 sees. The altered
/// row is the top digit, so the square ring pins a row j ≥ 1.
fn structural(made: &Made, context: &[u8]) -> Vec<(String, Vec<u8>, String, &'static str)> {
    let p = made.ring.parameters();
    let (n, m) = (p.n(), p.m());
    let index = made.case.index;
    let bits = n.trailing_zeros() as usize;
    let mut honest = vec![DalekScalar::ZERO; m * n];
    for j in 0..m {
        honest[j * n + ((index >> (bits * j)) & (n - 1))] = DalekScalar::ONE;
    }
    let top = m - 1;
    let digit = (index >> (bits * top)) & (n - 1);
    let at = |offset: usize| top * n + (digit + offset) % n;
    let half = DalekScalar::from(2u64).invert();
    let mut rows: Vec<StructuralRow> = vec![
        (
            "digit-2",
            vec![(at(0), DalekScalar::from(2u64)), (at(1), -DalekScalar::ONE)],
            "σ row with a 2 (and a −1 so it sums to 1): r = 2·r_a − r_b, a second tag for a holder of two keys",
        ),
        (
            "row-of-halves",
            vec![(at(0), half), (at(1), half)],
            "σ row (½, ½): r = (r_a + r_b)/2, a tag for the average of two keys",
        ),
    ];
    if n > 2 {
        rows.push((
            "two-ones-in-a-row",
            vec![
                (at(0), DalekScalar::ONE),
                (at(1), DalekScalar::ONE),
                (at(2), -DalekScalar::ONE),
            ],
            "σ row with two 1s (and a −1 so it sums to 1): r = r_a + r_b − r_c",
        ));
    }
    let nonces = nonces(&format!("{}/structural", made.case.name), p.nonce_count());
    let combined = |sigma: &[DalekScalar]| -> DalekScalar {
        (0..made.ring.len())
            .map(|k| {
                (0..m)
                    .map(|j| sigma[j * n + ((k >> (bits * j)) & (n - 1))])
                    .product::<DalekScalar>()
                    * made.secrets[k]
            })
            .sum()
    };
    let mut out = Vec::new();
    for (name, entries, description) in rows {
        let mut sigma = honest.clone();
        for j in 0..n {
            sigma[top * n + j] = DalekScalar::ZERO;
        }
        for (position, value) in entries {
            sigma[position] = value;
        }
        let r = Zeroizing::new(combined(&sigma));
        let forged = hazmat::triptych_forge_structure(
            &made.ring, &sigma, &sigma, &r, &r, &made.U, context, &nonces,
        )
        .expect("forge");
        out.push((
            name.to_owned(),
            forged.to_bytes(),
            description.to_owned(),
            "E2",
        ));
    }
    let mut sigma_B = honest.clone();
    sigma_B[at(0)] = DalekScalar::ZERO;
    let r = Zeroizing::new(made.secrets[index]);
    let forged = hazmat::triptych_forge_structure(
        &made.ring, &honest, &sigma_B, &r, &r, &made.U, context, &nonces,
    )
    .expect("forge");
    out.push((
        "B-row-without-a-one".to_owned(),
        forged.to_bytes(),
        "B commits to a top row of zeros; the responses answer for the signer's digit".to_owned(),
        "E1",
    ));
    out
}

struct MadeDisclosing {
    case: TriptychDisclosingCase,
    commitments: Ring,
    base: RistrettoPoint,
}

/// District-like attribute commitments over `made`'s ring: C_k = Q_{k mod 3} + b_k·H.
fn make_disclosing(made: &Made) -> MadeDisclosing {
    let name = format!("{}-disclosing", made.case.name);
    let H = *urne_crypto::group::generator_h().as_ristretto();
    let base_of = |value: usize| {
        *urne_crypto::group::hash_to_group(format!("{name}/value/{value}").as_bytes())
            .as_ristretto()
    };
    let blindings: Vec<DalekScalar> = (0..made.ring.len())
        .map(|k| scalar(&format!("{name}/blinding/{k}")))
        .collect();
    let points: Vec<RistrettoPoint> = (0..made.ring.len())
        .map(|k| base_of(k % 3) + H * blindings[k])
        .collect();
    let commitments = Ring::new(points.clone()).expect("commitments");
    let index = made.case.index;
    let base = base_of(index % 3);
    let attribute = Attribute {
        commitments: &commitments,
        base,
    };
    let p = made.ring.parameters();
    let nonces = nonces(&name, p.disclosing_nonce_count());
    let context =
        format!("{name}: context id, snapshot id, bucket, text hash, district, one-time key")
            .into_bytes();
    let signature = hazmat::triptych_sign_disclosing_with_nonces(
        &made.ring,
        &attribute,
        index,
        &Zeroizing::new(made.secrets[index]),
        &Zeroizing::new(blindings[index]),
        &made.U,
        &context,
        &nonces,
    )
    .expect("sign");
    let challenge = hazmat::triptych_challenge_disclosing(
        &made.ring, &attribute, &made.U, &context, &signature,
    )
    .expect("challenge");
    MadeDisclosing {
        case: TriptychDisclosingCase {
            name,
            over: made.case.name.clone(),
            commitments: points.into_iter().map(Point::from_ristretto).collect(),
            commitments_digest: to_hex(&commitments.digest()),
            attribute_base: Point::from_ristretto(base),
            blinding: Scalar::from_dalek(blindings[index]),
            nonces: nonces
                .iter()
                .map(|n| Scalar::from_dalek(*n.expose_secret()))
                .collect(),
            context: to_hex(&context),
            challenge,
            signature: to_hex(&signature.to_bytes()),
        },
        commitments,
        base,
    }
}

/// The verdict on a disclosing signature, as `fails_only` names it.
fn disclosing_verdict(
    ring: &Ring,
    attribute: &Attribute<'_>,
    U: &RistrettoPoint,
    context: &[u8],
    signature: &[u8],
) -> String {
    let decoded = match Signature::from_bytes_disclosing(signature, ring.parameters()) {
        Ok(s) => s,
        Err(Error::Decode(e)) => return format!("decode {}", e.field()),
        Err(e) => return e.spec_check().to_owned(),
    };
    match verify_disclosing(ring, attribute, U, context, &decoded) {
        Ok(()) => "Accepted".to_owned(),
        Err(e) => e.spec_check().to_owned(),
    }
}

/// Disclosing signatures that must be refused, each failing one check: E5 twice (z_b + 1;
/// another value claimed with the signer's true blinding, by the prover without its
/// witness check), and decoding (W[0] the identity; a plain signature where a disclosing
/// one is expected).
fn disclosing_negatives(made: &Made, d: &MadeDisclosing) -> Vec<TriptychNegative> {
    let context = from_hex(&d.case.context).expect("hex");
    let honest = from_hex(&d.case.signature).expect("hex");
    let attribute = Attribute {
        commitments: &d.commitments,
        base: d.base,
    };
    let mut out = Vec::new();
    let mut push = |name: &str,
                    signature: Vec<u8>,
                    description: &str,
                    expect: &str,
                    claimed: Option<RistrettoPoint>| {
        let attribute = Attribute {
            commitments: &d.commitments,
            base: claimed.unwrap_or(attribute.base),
        };
        let found = disclosing_verdict(&made.ring, &attribute, &made.U, &context, &signature);
        assert_eq!(found, expect, "{name}");
        out.push(TriptychNegative {
            name: format!("{}/{name}", d.case.name),
            over: d.case.name.clone(),
            context: to_hex(&context),
            signature: to_hex(&signature),
            description: description.to_owned(),
            fails_only: expect.to_owned(),
            attribute_base: claimed.map(Point::from_ristretto),
        });
    };
    let mut bad = honest.clone();
    let at = bad.len() - 32;
    let value = DalekScalar::from_canonical_bytes(bad[at..].try_into().expect("32 bytes"))
        .expect("canonical");
    bad[at..].copy_from_slice(&(value + DalekScalar::ONE).to_bytes());
    push(
        "z_b-plus-one",
        bad,
        "z_b + 1: only E5 involves z_b",
        "E5",
        None,
    );

    // Claimed: the value of index + 1 (another generator), answered with the true blinding.
    let index = made.case.index;
    let other_index = (index + 1) % made.ring.len();
    let claimed = d.commitments.key(other_index).expect("key")
        - urne_crypto::group::generator_h().as_ristretto()
            * scalar(&format!("{}/blinding/{other_index}", d.case.name));
    let lying = Attribute {
        commitments: &d.commitments,
        base: claimed,
    };
    let p = made.ring.parameters();
    let forged = hazmat::triptych_forge_disclosing_with_nonces(
        &made.ring,
        &lying,
        index,
        &Zeroizing::new(made.secrets[index]),
        &Zeroizing::new(*d.case.blinding.as_dalek()),
        &made.U,
        &context,
        &nonces(
            &format!("{}/lying", d.case.name),
            p.disclosing_nonce_count(),
        ),
    )
    .expect("forge");
    push(
        "another-value",
        forged.to_bytes(),
        "the signer claims the value of the next key's commitment, answering with its own blinding",
        "E5",
        Some(claimed),
    );
    // The signer's key at its index, but W answering for the next entry's commitment,
    // whose opening it knows (its own second key, or the registrar), so `claimed` is
    // that entry's true value: E1…E4 hold, E5 ties the commitment to the index the f
    // make one-hot.
    let forged = hazmat::triptych_forge_disclosing_at(
        &made.ring,
        &Attribute {
            commitments: &d.commitments,
            base: claimed,
        },
        index,
        other_index,
        &Zeroizing::new(made.secrets[index]),
        &Zeroizing::new(scalar(&format!("{}/blinding/{other_index}", d.case.name))),
        &made.U,
        &context,
        &nonces(
            &format!("{}/another-index", d.case.name),
            p.disclosing_nonce_count(),
        ),
    )
    .expect("forge");
    push(
        "another-index",
        forged.to_bytes(),
        "the key at the signer's index, the disclosure proven for the next entry's commitment (its value, its opening)",
        "E5",
        Some(claimed),
    );
    let mut bad = honest.clone();
    let w0 = p.signature_len();
    bad[w0..w0 + 32].fill(0);
    push(
        "W0-identity",
        bad,
        "W[0] = O (32 zero bytes)",
        "decode W[0]",
        None,
    );
    let mut bad = honest.clone();
    let z_b = bad.len() - 32;
    bad[z_b..].fill(0xff);
    push(
        "z_b-not-canonical",
        bad,
        "z_b = 2^256 − 1 ≥ ℓ",
        "decode z_b",
        None,
    );
    let mut bad = honest.clone();
    plus_order(&mut bad[z_b..]);
    push(
        "z_b-plus-order",
        bad,
        "z_b + ℓ: the honest z_b, not reduced (below 2^253, refused for canonicity alone)",
        "decode z_b",
        None,
    );
    push(
        "plain-signature",
        honest[..p.signature_len()].to_vec(),
        "the signature without W and z_b, where a disclosing one is expected",
        "decode length",
        None,
    );
    out
}

/// The batches of spec/08 §8.11 over `made`'s ring: false signatures whose errors, ±H_T,
/// cancel when every weight is 1 (`batch/cancelling-pair`: E1 off by +H_T and −H_T in
/// two signatures) or when each signature has one weight for all its equations
/// (`batch/cancelling-equations`: E1 off by +H_T and E2 by −H_T in one), among honest
/// signatures.
fn batches(made: &Made) -> Vec<TriptychBatch> {
    let sign = |batch: &str, position: usize, signer: usize, z_A: i8, z_C: i8| {
        let context = format!("{batch}/{position}").into_bytes();
        let p = made.ring.parameters();
        let signature = hazmat::triptych_sign_with_nonces(
            &made.ring,
            signer,
            &Zeroizing::new(made.secrets[signer]),
            &made.U,
            &context,
            &nonces(
                &format!("{}/{batch}/{position}", made.case.name),
                p.nonce_count(),
            ),
        )
        .expect("sign");
        let mut bytes = signature.to_bytes();
        let len = bytes.len();
        let shift = |bytes: &mut [u8], at: usize, by: i8| {
            let value =
                DalekScalar::from_canonical_bytes(bytes[at..at + 32].try_into().expect("32"))
                    .expect("canonical");
            let by = if by < 0 {
                -DalekScalar::from(by.unsigned_abs())
            } else {
                DalekScalar::from(by.unsigned_abs())
            };
            bytes[at..at + 32].copy_from_slice(&(value + by).to_bytes());
        };
        shift(&mut bytes, len - 96, z_A);
        shift(&mut bytes, len - 64, z_C);
        TriptychBatchItem {
            context: to_hex(&context),
            signature: to_hex(&bytes),
        }
    };
    let pair = "batch/cancelling-pair";
    let equations = "batch/cancelling-equations";
    let out = vec![
        TriptychBatch {
            name: pair.into(),
            over: made.case.name.clone(),
            items: vec![
                sign(pair, 0, made.case.index, 0, 0),
                sign(pair, 1, 3, 1, 0),
                sign(pair, 2, 6, 0, 0),
                sign(pair, 3, 11, -1, 0),
            ],
            failing: vec![1, 3],
            defeats: "weights all equal to 1: items 1 and 3 have z_A + 1 and z_A − 1, E1 off by +H_T and −H_T".into(),
        },
        TriptychBatch {
            name: equations.into(),
            over: made.case.name.clone(),
            items: vec![
                sign(equations, 0, made.case.index, 0, 0),
                sign(equations, 1, 7, 1, -1),
            ],
            failing: vec![1],
            defeats: "one weight per signature: item 1 has z_A + 1 and z_C − 1, E1 off by +H_T and E2 by −H_T".into(),
        },
    ];
    for batch in &out {
        let named = batch_verdict(&made.ring, &made.U, &batch.items).expect("decodes");
        assert_eq!(named, batch.failing, "{}", batch.name);
    }
    out
}

/// The positions a batch verifier names (empty if it accepts the batch).
fn batch_verdict(
    ring: &Ring,
    U: &RistrettoPoint,
    items: &[TriptychBatchItem],
) -> Result<Vec<usize>, String> {
    let mut decoded = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let context = from_hex(&item.context).map_err(|e| format!("item {position}: {e}"))?;
        let signature = from_hex(&item.signature).map_err(|e| format!("item {position}: {e}"))?;
        let signature = Signature::from_bytes(&signature, ring.parameters())
            .map_err(|e| format!("item {position}: {e}"))?;
        decoded.push((context, signature));
    }
    let mut batch = BatchVerifier::new(ring, *U);
    for (context, signature) in &decoded {
        batch.push(context, signature);
    }
    match batch.verify(&mut rand::rng()) {
        Ok(()) => Ok(Vec::new()),
        Err(Error::Batch { invalid }) => Ok(invalid.into_iter().map(|(p, _)| p).collect()),
        Err(e) => Err(e.to_string()),
    }
}

/// The file.
pub(crate) fn generate() -> crate::VectorFile {
    let small = make_case("ring-4", 2, 2);
    let odd = make_case("ring-32", 5, 19);
    // The production shape (n = 4, m ≥ 2): index 13 = digits (1, 3) in base 4, least
    // significant first, so the digit order and G_{j,i} for j ≥ 1, i ≥ 2 are pinned.
    let square = make_case("ring-16", 4, 13);
    let mut negative = negatives(&small, &odd);
    negative.extend(negatives(&odd, &small));
    negative.extend(negatives(&square, &small));
    let disclosing = [make_disclosing(&square), make_disclosing(&odd)];
    negative.extend(disclosing_negatives(&square, &disclosing[0]));
    negative.extend(disclosing_negatives(&odd, &disclosing[1]));
    let batches = batches(&square);
    file(
        FILE,
        &TriptychVectors {
            header: header(
                "Triptych linkable ring signatures: rings of 4 (n = 4, m = 1), 16 (n = 4, m = 2) and 32 (n = 2, m = 5) keys, signatures recomputed from their nonces, forgeries failing one check each; disclosing signatures (the parallel relation over the keys and attribute commitments) over the rings of 16 and 32",
                "spec/08-triptych.md",
            ),
            label: String::from_utf8_lossy(urne_crypto::labels::PROOF_TRIPTYCH).into_owned(),
            cases: vec![small.case, odd.case, square.case],
            negative,
            disclosing: disclosing.into_iter().map(|d| d.case).collect(),
            batches,
        },
    )
}

/// The checks, from the file alone.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let file: TriptychVectors = read(dir, FILE)?;
    report.expect(
        file.label.as_bytes() == urne_crypto::labels::PROOF_TRIPTYCH,
        || format!("{FILE}: label {}", file.label),
    );
    report.expect(!file.cases.is_empty(), || format!("{FILE}: no cases"));
    let mut rings = Vec::new();
    for case in &file.cases {
        let what = |e: &dyn std::fmt::Display| format!("{FILE}: {}: {e}", case.name);
        let ring = Ring::from_encodings(case.ring.iter().map(Point::to_bytes).collect())
            .map_err(|e| what(&e))?;
        report.expect(to_hex(&ring.digest()) == case.ring_digest, || {
            format!("{FILE}: {}: ring digest differs", case.name)
        });
        let p = ring.parameters();
        report.expect((p.n(), p.m()) == (case.n, case.m), || {
            format!("{FILE}: {}: (n, m) differ from spec/08 §8.2", case.name)
        });
        let root: [u8; 32] = from_hex(&case.snapshot_id)
            .map_err(|e| what(&e))?
            .try_into()
            .map_err(|_| what(&"snapshot id is not 32 bytes"))?;
        let context_id: [u8; 32] = from_hex(&case.context_id)
            .map_err(|e| what(&e))?
            .try_into()
            .map_err(|_| what(&"context id is not 32 bytes"))?;
        let U = linking_base(&root, &context_id);
        report.expect(Point::from_ristretto(U) == case.linking_base, || {
            format!("{FILE}: {}: linking base differs", case.name)
        });
        let context = from_hex(&case.context).map_err(|e| what(&e))?;
        let signature = from_hex(&case.signature).map_err(|e| what(&e))?;
        let secret = Zeroizing::new(*case.secret.as_dalek());
        let nonces: Vec<SecretScalar> = case
            .nonces
            .iter()
            .map(|n| SecretScalar::from_dalek(*n.as_dalek()))
            .collect();
        match hazmat::triptych_sign_with_nonces(&ring, case.index, &secret, &U, &context, &nonces) {
            Ok(s) => {
                report.expect(s.to_bytes() == signature, || {
                    format!("{FILE}: {}: recomputed signature differs", case.name)
                });
                report.expect(
                    hazmat::triptych_challenge(&ring, &U, &context, &s) == case.challenge,
                    || format!("{FILE}: {}: challenge differs", case.name),
                );
            }
            Err(e) => report.expect(false, || {
                format!("{FILE}: {}: cannot re-sign: {e}", case.name)
            }),
        }
        let tag = Point::from_ristretto(U * case.secret.as_dalek().invert());
        report.expect(tag == case.tag, || {
            format!("{FILE}: {}: tag is not r⁻¹·U", case.name)
        });
        let got = verdict(&ring, &U, &context, &signature);
        report.expect(got == "Accepted", || {
            format!("{FILE}: {}: valid signature gave {got}", case.name)
        });
        rings.push((case.name.clone(), ring, U, case.index, case.secret));
    }
    // Disclosing cases: (name, over's position in `rings`, commitments, Q).
    let mut disclosing = Vec::new();
    for case in &file.disclosing {
        let what = |e: &dyn std::fmt::Display| format!("{FILE}: {}: {e}", case.name);
        let Some(at) = rings.iter().position(|r| r.0 == case.over) else {
            report.expect(false, || {
                format!("{FILE}: {}: no case named {}", case.name, case.over)
            });
            continue;
        };
        let (_, ring, U, index, secret) = &rings[at];
        let commitments =
            Ring::from_encodings(case.commitments.iter().map(Point::to_bytes).collect())
                .map_err(|e| what(&e))?;
        report.expect(
            to_hex(&commitments.digest()) == case.commitments_digest,
            || format!("{FILE}: {}: commitments digest differs", case.name),
        );
        let attribute = Attribute {
            commitments: &commitments,
            base: *case.attribute_base.as_ristretto(),
        };
        let context = from_hex(&case.context).map_err(|e| what(&e))?;
        let signature = from_hex(&case.signature).map_err(|e| what(&e))?;
        let nonces: Vec<SecretScalar> = case
            .nonces
            .iter()
            .map(|n| SecretScalar::from_dalek(*n.as_dalek()))
            .collect();
        match hazmat::triptych_sign_disclosing_with_nonces(
            ring,
            &attribute,
            *index,
            &Zeroizing::new(*secret.as_dalek()),
            &Zeroizing::new(*case.blinding.as_dalek()),
            U,
            &context,
            &nonces,
        ) {
            Ok(s) => {
                report.expect(s.to_bytes() == signature, || {
                    format!("{FILE}: {}: recomputed signature differs", case.name)
                });
                report.expect(
                    hazmat::triptych_challenge_disclosing(ring, &attribute, U, &context, &s).ok()
                        == Some(case.challenge),
                    || format!("{FILE}: {}: challenge differs", case.name),
                );
            }
            Err(e) => report.expect(false, || {
                format!("{FILE}: {}: cannot re-sign: {e}", case.name)
            }),
        }
        let got = disclosing_verdict(ring, &attribute, U, &context, &signature);
        report.expect(got == "Accepted", || {
            format!("{FILE}: {}: valid signature gave {got}", case.name)
        });
        disclosing.push((
            case.name.clone(),
            at,
            commitments,
            *case.attribute_base.as_ristretto(),
        ));
    }
    report.expect(!file.negative.is_empty(), || {
        format!("{FILE}: no negative cases")
    });
    for case in &file.negative {
        let context = from_hex(&case.context).map_err(|e| format!("{}: {e}", case.name))?;
        let signature = from_hex(&case.signature).map_err(|e| format!("{}: {e}", case.name))?;
        let got = if let Some((_, at, commitments, base)) =
            disclosing.iter().find(|d| d.0 == case.over)
        {
            let (_, ring, U, _, _) = &rings[*at];
            let attribute = Attribute {
                commitments,
                base: case
                    .attribute_base
                    .as_ref()
                    .map_or(*base, |p| *p.as_ristretto()),
            };
            disclosing_verdict(ring, &attribute, U, &context, &signature)
        } else if let Some((_, ring, U, _, _)) = rings.iter().find(|r| r.0 == case.over) {
            verdict(ring, U, &context, &signature)
        } else {
            report.expect(false, || {
                format!("{FILE}: {}: no case named {}", case.name, case.over)
            });
            continue;
        };
        report.expect(got == case.fails_only, || {
            format!(
                "{FILE}: {}: expected Reject failing only {}, got {got}",
                case.name, case.fails_only
            )
        });
    }
    for batch in &file.batches {
        let Some((_, ring, U, _, _)) = rings.iter().find(|r| r.0 == batch.over) else {
            report.expect(false, || {
                format!("{FILE}: {}: no case named {}", batch.name, batch.over)
            });
            continue;
        };
        let named = batch_verdict(ring, U, &batch.items)
            .map_err(|e| format!("{FILE}: {}: {e}", batch.name))?;
        report.expect(named == batch.failing, || {
            format!(
                "{FILE}: {}: named {named:?}, expected {:?}",
                batch.name, batch.failing
            )
        });
    }
    Ok(())
}

/// ℓ, little-endian.
const ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// scalar += ℓ in place: the same residue, encoded at or above ℓ. A canonical scalar is
/// below ℓ < 2^253, so the sum is below 2^254 and every top bit stays clear: only a
/// decoder that compares with ℓ refuses it, not one that checks the high bits.
fn plus_order(scalar: &mut [u8]) {
    let mut carry = 0u16;
    for (byte, order) in scalar.iter_mut().zip(ORDER) {
        let sum = u16::from(*byte) + u16::from(order) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    debug_assert_eq!(carry, 0);
    debug_assert!(scalar[31] < 0x40);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use curve25519_dalek::Scalar;

    use super::plus_order;

    #[test]
    fn plus_order_is_the_same_scalar_refused_only_for_being_at_least_the_order() {
        for value in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(7u64).invert(),
        ] {
            let mut bytes = value.to_bytes();
            plus_order(&mut bytes);
            assert_ne!(bytes, value.to_bytes());
            // Below 2^253 but for ℓ − 1 (honest z and z_b are below 2^252 but for a
            // negligible chance): no check of the top three bits alone refuses it.
            let top = if value == -Scalar::ONE { 0x40 } else { 0x20 };
            assert!(bytes[31] < top, "a top-bits check alone would refuse it");
            assert!(bool::from(Scalar::from_canonical_bytes(bytes).is_none()));
            assert_eq!(Scalar::from_bytes_mod_order(bytes), value);
        }
    }
}
