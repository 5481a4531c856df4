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
use urne_crypto::triptych::{Error, Ring, Signature, Zeroizing, linking_base, verify};
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
    /// The one check it fails: `E1`…`E4`, or `decode <field>`.
    pub fails_only: String,
}

fn scalar(name: &str) -> DalekScalar {
    derive(&format!("triptych/{name}"))
}

fn bytes32(name: &str) -> [u8; 32] {
    scalar(name).to_bytes()
}

fn nonces(name: &str, count: usize) -> Vec<SecretScalar> {
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
    let mut rows: Vec<(&str, Vec<(usize, DalekScalar)>, &str)> = vec![
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
    file(
        FILE,
        &TriptychVectors {
            header: header(
                "Triptych linkable ring signatures: rings of 4 (n = 4, m = 1), 16 (n = 4, m = 2) and 32 (n = 2, m = 5) keys, signatures recomputed from their nonces, forgeries failing one check each",
                "spec/08-triptych.md",
            ),
            label: String::from_utf8_lossy(urne_crypto::labels::PROOF_TRIPTYCH).into_owned(),
            cases: vec![small.case, odd.case, square.case],
            negative,
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
        rings.push((case.name.clone(), ring, U));
    }
    report.expect(!file.negative.is_empty(), || {
        format!("{FILE}: no negative cases")
    });
    for case in &file.negative {
        let Some((_, ring, U)) = rings.iter().find(|(name, _, _)| *name == case.over) else {
            report.expect(false, || {
                format!("{FILE}: {}: no case named {}", case.name, case.over)
            });
            continue;
        };
        let context = from_hex(&case.context).map_err(|e| format!("{}: {e}", case.name))?;
        let signature = from_hex(&case.signature).map_err(|e| format!("{}: {e}", case.name))?;
        let got = verdict(ring, U, &context, &signature);
        report.expect(got == case.fails_only, || {
            format!(
                "{FILE}: {}: expected Reject failing only {}, got {got}",
                case.name, case.fails_only
            )
        });
    }
    Ok(())
}
