//! Tests of the Triptych signature: completeness, each public input bound, each
//! equation needed, strict decoding, tags, batches.

use super::*;

struct Fixture {
    secrets: Vec<Zeroizing<Scalar>>,
    ring: Ring,
    U: RistrettoPoint,
}

fn random_scalar() -> Scalar {
    *SecretScalar::random(&mut rand::rng()).expose_secret()
}

fn fixture(size: usize) -> Fixture {
    let secrets: Vec<Zeroizing<Scalar>> =
        (0..size).map(|_| Zeroizing::new(random_scalar())).collect();
    let keys = secrets
        .iter()
        .map(|r| RISTRETTO_BASEPOINT_TABLE * &**r)
        .collect();
    Fixture {
        secrets,
        ring: Ring::new(keys).unwrap(),
        U: linking_base(&[1; 32], &[2; 32]),
    }
}

fn sign_at(f: &Fixture, index: usize, context: &[u8]) -> Signature {
    sign(
        &f.ring,
        index,
        &f.secrets[index],
        &f.U,
        context,
        &mut rand::rng(),
    )
    .unwrap()
}

fn other_point() -> RistrettoPoint {
    RISTRETTO_BASEPOINT_TABLE * &random_scalar()
}

#[test]
fn honest_signatures_verify_at_every_index_and_ring_shape() {
    for size in [2, 4, 8, 16, 32, 64] {
        let f = fixture(size);
        for index in [0, size / 2 - 1, size / 2, size - 1] {
            let s = sign_at(&f, index, b"petition 7");
            verify(&f.ring, &f.U, b"petition 7", &s)
                .unwrap_or_else(|e| panic!("size {size}, index {index}: {e}"));
            assert_eq!(failing_equations(&f.ring, &f.U, b"petition 7", &s), [""; 0]);
        }
    }
}

#[test]
fn encoding_round_trips_at_the_length_spec_08_gives() {
    let f = fixture(16);
    let s = sign_at(&f, 5, b"c");
    let bytes = s.to_bytes();
    assert_eq!(bytes.len(), f.ring.parameters().signature_len());
    // N = 16: n = 4, m = 2: 1 + 32·(5 + 4) + 32·(6 + 3).
    assert_eq!(bytes.len(), 1 + 32 * 9 + 32 * 9);
    let decoded = Signature::from_bytes(&bytes, f.ring.parameters()).unwrap();
    assert_eq!(decoded, s);
    verify(&f.ring, &f.U, b"c", &decoded).unwrap();
}

#[test]
fn parameters_follow_spec_08_for_each_ring_size() {
    let p = Parameters::for_ring_size(1 << 12).unwrap();
    assert_eq!((p.n(), p.m()), (4, 6));
    let p = Parameters::for_ring_size(1 << 16).unwrap();
    assert_eq!((p.n(), p.m()), (4, 8));
    assert_eq!(p.signature_len(), 1537);
    assert_eq!(p.nonce_count(), 36);
    let p = Parameters::for_ring_size(1 << 13).unwrap();
    assert_eq!((p.n(), p.m()), (2, 13));
    let p = Parameters::for_ring_size(2).unwrap();
    assert_eq!((p.n(), p.m(), p.ring_size()), (2, 1, 2));
    for bad in [0, 1, 3, 12, 1 << 17, usize::MAX] {
        assert_eq!(
            Parameters::for_ring_size(bad),
            Err(Error::RingSize { found: bad }),
            "{bad}"
        );
    }
}

#[test]
fn a_ring_with_an_identity_or_non_canonical_key_is_refused_naming_the_key() {
    let f = fixture(4);
    let mut keys: Vec<RistrettoPoint> = f.ring.keys.clone();
    keys[2] = RistrettoPoint::default();
    assert!(matches!(
        Ring::new(keys),
        Err(Error::RingKey { index: 2, .. })
    ));
    let mut encodings = f.ring.encodings.clone();
    encodings[3] = [0xff; 32];
    match Ring::from_encodings(encodings) {
        Err(Error::RingKey { index: 3, reason }) => {
            assert_eq!(reason.kind(), &crate::DecodeErrorKind::NonCanonicalPoint)
        }
        other => panic!("{other:?}"),
    }
    let mut encodings = f.ring.encodings.clone();
    encodings[0] = [0; 32];
    assert!(matches!(
        Ring::from_encodings(encodings),
        Err(Error::RingKey { index: 0, .. })
    ));
    assert!(matches!(
        Ring::from_encodings(f.ring.encodings[..3].to_vec()),
        Err(Error::RingSize { found: 3 })
    ));
    // Both constructors give the same ring.
    let again = Ring::from_encodings(f.ring.encodings.clone()).unwrap();
    assert_eq!(again.digest(), f.ring.digest());
}

#[test]
fn ring_digest_is_spec_08_sha256_over_the_ordered_keys() {
    let f = fixture(4);
    let mut hash = Sha256::new();
    hash.update(b"urne/v1/triptych/ring");
    hash.update(4u64.to_le_bytes());
    for e in &f.ring.encodings {
        hash.update(e);
    }
    assert_eq!(f.ring.digest().as_slice(), hash.finalize().as_slice());
    let mut swapped = f.ring.encodings.clone();
    swapped.swap(0, 1);
    assert_ne!(
        Ring::from_encodings(swapped).unwrap().digest(),
        f.ring.digest()
    );
}

#[test]
fn the_prover_refuses_a_secret_that_is_not_the_key_at_the_index() {
    let f = fixture(8);
    let mut rng = rand::rng();
    // Someone else's key, and a key not in the ring at all.
    assert_eq!(
        sign(&f.ring, 3, &f.secrets[4], &f.U, b"", &mut rng).unwrap_err(),
        Error::WitnessMismatch
    );
    let stranger = Zeroizing::new(random_scalar());
    assert_eq!(
        sign(&f.ring, 3, &stranger, &f.U, b"", &mut rng).unwrap_err(),
        Error::WitnessMismatch
    );
    assert_eq!(
        sign(
            &f.ring,
            3,
            &Zeroizing::new(Scalar::ZERO),
            &f.U,
            b"",
            &mut rng
        )
        .unwrap_err(),
        Error::WitnessMismatch
    );
    assert_eq!(
        sign(&f.ring, 8, &f.secrets[3], &f.U, b"", &mut rng).unwrap_err(),
        Error::IndexOutOfRange {
            index: 8,
            ring_size: 8
        }
    );
    assert_eq!(
        sign(
            &f.ring,
            3,
            &f.secrets[3],
            &RistrettoPoint::default(),
            b"",
            &mut rng
        )
        .unwrap_err(),
        Error::LinkingBaseIdentity
    );
}

#[test]
fn the_prover_withholds_a_signature_that_does_not_verify() {
    let f = fixture(4);
    crate::proofs::fault::SKEW_CHALLENGE.with(|s| s.set(true));
    let result = sign(&f.ring, 1, &f.secrets[1], &f.U, b"", &mut rand::rng());
    crate::proofs::fault::SKEW_CHALLENGE.with(|s| s.set(false));
    assert!(
        matches!(result, Err(Error::SelfCheckFailed(_))),
        "{result:?}"
    );
}

#[test]
fn the_tag_is_r_inverse_times_u_and_the_same_for_one_key_and_one_linking_base() {
    let f = fixture(8);
    let first = sign_at(&f, 6, b"first signature");
    let second = sign_at(&f, 6, b"a withdrawal, other bytes");
    assert_eq!(first.tag(), second.tag());
    let expected = f.U * f.secrets[6].invert();
    assert_eq!(first.tag(), expected.compress());
    assert_ne!(first.to_bytes(), second.to_bytes(), "fresh nonces");
    // Another key, same base: another tag.
    assert_ne!(sign_at(&f, 5, b"first signature").tag(), first.tag());
}

#[test]
fn tags_differ_across_contexts_and_snapshots() {
    let f = fixture(4);
    let bases = [
        linking_base(&[1; 32], &[2; 32]),
        linking_base(&[1; 32], &[3; 32]),
        linking_base(&[4; 32], &[2; 32]),
    ];
    let tags: Vec<CompressedRistretto> = bases
        .iter()
        .map(|U| {
            let s = sign(&f.ring, 2, &f.secrets[2], U, b"", &mut rand::rng()).unwrap();
            verify(&f.ring, U, b"", &s).unwrap();
            s.tag()
        })
        .collect();
    assert_ne!(tags[0], tags[1], "another context");
    assert_ne!(tags[0], tags[2], "another snapshot");
    assert_ne!(tags[1], tags[2]);
}

#[test]
fn linking_base_is_spec_08_hash_to_group_of_root_and_context() {
    let mut input = b"urne/v1/triptych/linking-base".to_vec();
    input.extend_from_slice(&[7; 32]);
    input.extend_from_slice(&[9; 32]);
    assert_eq!(
        linking_base(&[7; 32], &[9; 32]),
        *hash_to_group(&input).as_ristretto()
    );
    // Root and context are not interchangeable.
    assert_ne!(
        linking_base(&[7; 32], &[9; 32]),
        linking_base(&[9; 32], &[7; 32])
    );
}

#[test]
fn altering_the_context_bytes_makes_verification_fail() {
    let f = fixture(8);
    let s = sign_at(&f, 1, b"petition text hash 01");
    for other in [
        &b"petition text hash 02"[..],
        b"",
        b"petition text hash 01\0",
    ] {
        assert!(verify(&f.ring, &f.U, other, &s).is_err(), "{other:?}");
    }
}

#[test]
fn altering_one_ring_key_makes_verification_fail() {
    let f = fixture(8);
    let s = sign_at(&f, 1, b"c");
    // A key other than the signer's: the proof says nothing about which key signed, so
    // the ring digest is what catches it.
    for index in [0, 1, 7] {
        let mut keys = f.ring.keys.clone();
        keys[index] = other_point();
        let ring = Ring::new(keys).unwrap();
        assert!(verify(&ring, &f.U, b"c", &s).is_err(), "key {index}");
    }
    let mut keys = f.ring.keys.clone();
    keys.swap(2, 3);
    let reordered = Ring::new(keys).unwrap();
    assert!(verify(&reordered, &f.U, b"c", &s).is_err(), "order");
}

#[test]
fn altering_the_linking_base_makes_verification_fail() {
    let f = fixture(8);
    let s = sign_at(&f, 4, b"c");
    let other = linking_base(&[1; 32], &[3; 32]);
    assert!(verify(&f.ring, &other, b"c", &s).is_err());
    assert_eq!(
        verify(&f.ring, &RistrettoPoint::default(), b"c", &s),
        Err(Error::LinkingBaseIdentity)
    );
}

#[test]
fn altering_the_tag_makes_verification_fail() {
    let f = fixture(8);
    let s = sign_at(&f, 4, b"c");
    let mut altered = s.clone();
    altered.J = Point::from_ristretto(s.J.as_ristretto() + RISTRETTO_BASEPOINT_POINT);
    assert!(verify(&f.ring, &f.U, b"c", &altered).is_err());
    // Another signer's tag.
    altered.J = sign_at(&f, 5, b"c").J;
    assert!(verify(&f.ring, &f.U, b"c", &altered).is_err());
}

#[test]
fn a_signature_for_another_ring_size_is_refused_by_shape() {
    let small = fixture(4);
    let large = fixture(16);
    let s = sign_at(&small, 1, b"c");
    assert_eq!(
        verify(&large.ring, &large.U, b"c", &s),
        Err(Error::ParametersMismatch {
            ring: 16,
            signature: 4
        })
    );
    // n and m are in the transcript too: a ring of 2^2 (n = 4, m = 1) and one of 2^1
    // (n = 2, m = 1) cannot share a signature's bytes.
    let bytes = s.to_bytes();
    assert!(Signature::from_bytes(&bytes, large.ring.parameters()).is_err());
}

#[test]
fn each_forgery_fails_exactly_the_equation_it_targets() {
    let f = fixture(16);
    let s = sign_at(&f, 9, b"c");
    let only = |altered: &Signature| failing_equations(&f.ring, &f.U, b"c", altered);

    // z_A appears in E1 only, z_C in E2 only; neither is in the transcript.
    let mut bad = s.clone();
    bad.z_A += Scalar::ONE;
    assert_eq!(only(&bad), ["E1"]);
    assert_eq!(
        verify(&f.ring, &f.U, b"c", &bad),
        Err(Error::Equation { equation: "E1" })
    );
    let mut bad = s.clone();
    bad.z_C += Scalar::ONE;
    assert_eq!(only(&bad), ["E2"]);

    // A signer whose secret is not the ring key at its index, with an honest tag of
    // that secret: E3 alone fails.
    let nonces: Vec<SecretScalar> = (0..f.ring.parameters().nonce_count())
        .map(|_| SecretScalar::random(&mut rand::rng()))
        .collect();
    let stranger = Zeroizing::new(random_scalar());
    let source = NonceSource::explicit(&nonces, nonces.len()).unwrap();
    let U = f.U.compress().to_bytes();
    let forged = prove(
        &f.ring,
        9,
        &stranger,
        &tag_for(&stranger, &f.U),
        &U,
        b"c",
        source,
        false,
    )
    .unwrap();
    assert_eq!(only(&forged), ["E3"]);
    assert_eq!(
        verify(&f.ring, &f.U, b"c", &forged),
        Err(Error::Equation { equation: "E3" })
    );

    // The true signer with a tag of another secret (a tag made up to sign twice): E4
    // alone fails.
    let source = NonceSource::explicit(&nonces, nonces.len()).unwrap();
    let forged = prove(
        &f.ring,
        9,
        &f.secrets[9],
        &tag_for(&stranger, &f.U),
        &U,
        b"c",
        source,
        false,
    )
    .unwrap();
    assert_eq!(only(&forged), ["E4"]);
    assert_eq!(
        verify(&f.ring, &f.U, b"c", &forged),
        Err(Error::Equation { equation: "E4" })
    );
}

#[test]
fn altering_any_commitment_or_response_makes_verification_fail() {
    let f = fixture(16);
    let s = sign_at(&f, 3, b"c");
    let shift = |p: &Point| Point::from_ristretto(p.as_ristretto() + RISTRETTO_BASEPOINT_POINT);
    let mut variants: Vec<(String, Signature)> = Vec::new();
    for (name, field) in [("A", 0), ("B", 1), ("C", 2), ("D", 3)] {
        let mut bad = s.clone();
        let target = [&mut bad.A, &mut bad.B, &mut bad.C, &mut bad.D];
        let point = target.into_iter().nth(field).unwrap();
        *point = shift(point);
        variants.push((name.into(), bad));
    }
    for j in 0..s.X.len() {
        let mut bad = s.clone();
        bad.X[j] = shift(&bad.X[j]);
        variants.push((format!("X[{j}]"), bad));
        let mut bad = s.clone();
        bad.Y[j] = shift(&bad.Y[j]);
        variants.push((format!("Y[{j}]"), bad));
    }
    for k in 0..s.f.len() {
        let mut bad = s.clone();
        bad.f[k] += Scalar::ONE;
        variants.push((format!("f {k}"), bad));
    }
    let mut bad = s.clone();
    bad.z += Scalar::ONE;
    variants.push(("z".into(), bad));
    for (name, bad) in variants {
        assert!(verify(&f.ring, &f.U, b"c", &bad).is_err(), "{name}");
    }
}

#[test]
fn decoding_is_strict_and_names_the_field() {
    let f = fixture(4);
    let p = f.ring.parameters();
    let bytes = sign_at(&f, 0, b"c").to_bytes();
    let field = |b: &[u8]| match Signature::from_bytes(b, p) {
        Err(Error::Decode(e)) => (e.field().to_owned(), e.kind().clone()),
        other => panic!("{other:?}"),
    };
    use crate::DecodeErrorKind as K;
    assert_eq!(field(&[]).0, "version");
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(
        field(&v2),
        ("version".into(), K::UnsupportedVersion { found: 2 })
    );
    assert_eq!(
        field(&bytes[..bytes.len() - 1]),
        (
            "length".into(),
            K::WrongLength {
                expected: bytes.len(),
                found: bytes.len() - 1
            }
        )
    );
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(field(&long).0, "length");
    let mut identity = bytes.clone();
    identity[1..33].fill(0);
    assert_eq!(field(&identity), ("J".into(), K::IdentityPoint));
    // N = 4: n = 4, m = 1. Points J A B C D X[0] Y[0], then f[0][1..3], z_A, z_C, z.
    let mut bad = bytes.clone();
    bad[1 + 32 * 6..1 + 32 * 7].fill(0xff);
    assert_eq!(field(&bad), ("Y[0]".into(), K::NonCanonicalPoint));
    let mut bad = bytes.clone();
    bad[1 + 32 * 5..1 + 32 * 6].fill(0);
    assert_eq!(field(&bad), ("X[0]".into(), K::IdentityPoint));
    let mut bad = bytes.clone();
    bad[1 + 32 * 8..1 + 32 * 9].fill(0xff);
    assert_eq!(field(&bad), ("f[0][2]".into(), K::NonCanonicalScalar));
    let len = bytes.len();
    let mut bad = bytes.clone();
    bad[len - 32..].fill(0xff);
    assert_eq!(field(&bad), ("z".into(), K::NonCanonicalScalar));
    // ℓ itself is not canonical; ℓ − 1 is.
    let ell_minus_one = (-Scalar::ONE).to_bytes();
    let mut ell = ell_minus_one;
    ell[0] += 1;
    let mut bad = bytes.clone();
    bad[len - 96..len - 64].copy_from_slice(&ell);
    assert_eq!(field(&bad), ("z_A".into(), K::NonCanonicalScalar));
    bad[len - 96..len - 64].copy_from_slice(&ell_minus_one);
    assert!(Signature::from_bytes(&bad, p).is_ok());
}

#[test]
fn a_batch_of_honest_signatures_verifies_and_a_bad_one_is_named() {
    let f = fixture(64);
    let contexts: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 3]).collect();
    let signatures: Vec<Signature> = contexts
        .iter()
        .enumerate()
        .map(|(i, c)| sign_at(&f, i * 10, c))
        .collect();
    let mut batch = BatchVerifier::new(&f.ring, f.U);
    for (c, s) in contexts.iter().zip(&signatures) {
        batch.push(c, s);
    }
    assert_eq!(batch.len(), 6);
    batch.verify(&mut rand::rng()).unwrap();
    assert!(
        BatchVerifier::new(&f.ring, f.U)
            .verify(&mut rand::rng())
            .is_ok()
    );

    // One signature under the wrong context, one with z_C altered (which breaks E2
    // only), one for another ring size.
    let mut bad_e2 = signatures[4].clone();
    bad_e2.z_C += Scalar::ONE;
    let small = fixture(4);
    let foreign = sign_at(&small, 0, b"x");
    let mut batch = BatchVerifier::new(&f.ring, f.U);
    for (i, (c, s)) in contexts.iter().zip(&signatures).enumerate() {
        match i {
            1 => batch.push(b"another context", s),
            4 => batch.push(c, &bad_e2),
            _ => batch.push(c, s),
        }
    }
    batch.push(b"x", &foreign);
    match batch.verify(&mut rand::rng()) {
        Err(Error::Batch { invalid }) => {
            let positions: Vec<usize> = invalid.iter().map(|(p, _)| *p).collect();
            assert_eq!(positions, [1, 4, 6]);
            assert_eq!(invalid[1].1, Error::Equation { equation: "E2" });
            assert!(matches!(invalid[2].1, Error::ParametersMismatch { .. }));
        }
        other => panic!("{other:?}"),
    }
}

/// Two signatures whose E1 errors are +H_T and −H_T, and one whose E1 and E2 errors are
/// +H_T and −H_T: equal weights (all 1, or one per signature) would cancel them.
#[test]
fn a_batch_refuses_false_signatures_whose_errors_cancel_under_equal_weights() {
    let f = fixture(16);
    let mut up = sign_at(&f, 3, b"a");
    up.z_A += Scalar::ONE;
    let mut down = sign_at(&f, 11, b"b");
    down.z_A -= Scalar::ONE;
    let mut batch = BatchVerifier::new(&f.ring, f.U);
    batch.push(b"h", &sign_at(&f, 2, b"h"));
    batch.push(b"a", &up);
    batch.push(b"b", &down);
    assert_eq!(
        batch.verify(&mut rand::rng()),
        Err(Error::Batch {
            invalid: vec![
                (1, Error::Equation { equation: "E1" }),
                (2, Error::Equation { equation: "E1" })
            ]
        })
    );
    let mut both = sign_at(&f, 7, b"c");
    both.z_A += Scalar::ONE;
    both.z_C -= Scalar::ONE;
    let mut batch = BatchVerifier::new(&f.ring, f.U);
    batch.push(b"c", &both);
    assert_eq!(
        batch.verify(&mut rand::rng()),
        Err(Error::Batch {
            invalid: vec![(0, Error::Equation { equation: "E1" })]
        })
    );
    // The weights are what catches them: all weights equal (the test switch) lets both
    // batches through.
    #[cfg(feature = "test-weakened-verifier")]
    {
        let _equal = crate::weaken::Weakened::skip(Check::TriptychBatchRandomWeights);
        let mut batch = BatchVerifier::new(&f.ring, f.U);
        batch.push(b"a", &up);
        batch.push(b"b", &down);
        assert_eq!(batch.verify(&mut rand::rng()), Ok(()));
        let mut batch = BatchVerifier::new(&f.ring, f.U);
        batch.push(b"c", &both);
        assert_eq!(batch.verify(&mut rand::rng()), Ok(()));
    }
}

#[test]
fn a_batch_catches_a_forgery_of_each_equation() {
    let f = fixture(16);
    let honest = sign_at(&f, 2, b"h");
    let nonces: Vec<SecretScalar> = (0..f.ring.parameters().nonce_count())
        .map(|_| SecretScalar::random(&mut rand::rng()))
        .collect();
    let U = f.U.compress().to_bytes();
    let stranger = Zeroizing::new(random_scalar());
    let forge = |r: &Zeroizing<Scalar>, tag: &Zeroizing<Scalar>| {
        let source = NonceSource::explicit(&nonces, nonces.len()).unwrap();
        prove(&f.ring, 9, r, &tag_for(tag, &f.U), &U, b"c", source, false).unwrap()
    };
    let mut e1 = honest.clone();
    e1.z_A += Scalar::ONE;
    let mut e2 = honest.clone();
    e2.z_C += Scalar::ONE;
    let forgeries = [
        ("E1", b"h".as_slice(), e1),
        ("E2", b"h", e2),
        ("E3", b"c", forge(&stranger, &stranger)),
        ("E4", b"c", forge(&f.secrets[9], &stranger)),
    ];
    for (equation, context, forged) in forgeries {
        let mut batch = BatchVerifier::new(&f.ring, f.U);
        batch.push(b"h", &honest);
        batch.push(context, &forged);
        assert_eq!(
            batch.verify(&mut rand::rng()),
            Err(Error::Batch {
                invalid: vec![(1, Error::Equation { equation })]
            }),
            "{equation}"
        );
    }
}

#[test]
fn commitment_generators_are_distinct_and_named_as_spec_08_says() {
    let g = commitment_generators();
    let mut seen: Vec<[u8; 32]> = g.G.iter().map(|p| p.compress().to_bytes()).collect();
    seen.push(g.H.compress().to_bytes());
    seen.push(RISTRETTO_BASEPOINT_POINT.compress().to_bytes());
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), count);
    assert_eq!(
        g.G[3 * MAX_BASE + 1],
        *generator(b"triptych/G/3/1").as_ristretto()
    );
}

/// A ring with attribute commitments C_k = Q_{d_k} + b_k·H, district d_k = k mod 3.
struct Disclosing {
    f: Fixture,
    commitments: Ring,
    blindings: Vec<Zeroizing<Scalar>>,
}

fn district_base(district: u32) -> RistrettoPoint {
    *crate::group::hash_to_group(&district.to_be_bytes()).as_ristretto()
}

fn disclosing(size: usize) -> Disclosing {
    let f = fixture(size);
    let H = blinding_base().0;
    let blindings: Vec<Zeroizing<Scalar>> =
        (0..size).map(|_| Zeroizing::new(random_scalar())).collect();
    let commitments = Ring::new(
        (0..size)
            .map(|k| district_base((k % 3) as u32) + H * *blindings[k])
            .collect(),
    )
    .unwrap();
    Disclosing {
        f,
        commitments,
        blindings,
    }
}

impl Disclosing {
    fn attribute(&self, district: u32) -> Attribute<'_> {
        Attribute {
            commitments: &self.commitments,
            base: district_base(district),
        }
    }

    fn sign(&self, index: usize, context: &[u8]) -> Signature {
        sign_disclosing(
            &self.f.ring,
            &self.attribute((index % 3) as u32),
            index,
            &self.f.secrets[index],
            &self.blindings[index],
            &self.f.U,
            context,
            &mut rand::rng(),
        )
        .unwrap()
    }
}

#[test]
fn disclosing_signatures_verify_at_every_shape_and_encode_at_their_length() {
    for size in [2, 4, 8, 16, 32] {
        let d = disclosing(size);
        for index in [0, size / 2, size - 1] {
            let s = d.sign(index, b"petition 7");
            let attribute = d.attribute((index % 3) as u32);
            verify_disclosing(&d.f.ring, &attribute, &d.f.U, b"petition 7", &s)
                .unwrap_or_else(|e| panic!("size {size}, index {index}: {e}"));
            let bytes = s.to_bytes();
            let p = d.f.ring.parameters();
            assert_eq!(bytes.len(), p.disclosing_signature_len());
            // Made in one allocation: no first copy freed unwiped on the way.
            assert_eq!(bytes.capacity(), bytes.len());
            assert_eq!(Signature::from_bytes_disclosing(&bytes, p).unwrap(), s);
            // The tag is the key's, disclosing or not: one signature per person.
            assert_eq!(s.tag(), sign_at(&d.f, index, b"x").tag());
        }
    }
}

#[test]
fn a_disclosure_for_another_entrys_commitment_fails_e5_only() {
    // Key 4's holder also knows the opening of commitment 5 (district 2): W answers for
    // index 5, everything else for index 4. E5 ties the disclosure to the index the f
    // make one-hot, so it alone fails; a verifier that let the two rings have their own
    // index would accept it.
    let d = disclosing(16);
    let nonces: Vec<SecretScalar> = (0..d.f.ring.parameters().disclosing_nonce_count())
        .map(|_| SecretScalar::random(&mut rand::rng()))
        .collect();
    let claimed = d.attribute(2);
    let statement = AttributeStatement::new(&d.f.ring, &claimed).unwrap();
    let U = d.f.U.compress().to_bytes();
    let tag = tag_for(&d.f.secrets[4], &d.f.U);
    let forged = prove_with(
        &d.f.ring,
        4,
        &d.f.secrets[4],
        &tag,
        &U,
        b"c",
        Some((&statement, &d.blindings[5], 5)),
        NonceSource::explicit(&nonces, nonces.len()).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(
        failing_equations_with(&d.f.ring, Some(&claimed), &d.f.U, b"c", &forged),
        ["E5"]
    );
    // The same prover with W at the key's own index and its own opening verifies: only
    // the index differs.
    let own = d.attribute(1);
    let statement = AttributeStatement::new(&d.f.ring, &own).unwrap();
    let honest = prove_with(
        &d.f.ring,
        4,
        &d.f.secrets[4],
        &tag,
        &U,
        b"c",
        Some((&statement, &d.blindings[4], 4)),
        NonceSource::explicit(&nonces, nonces.len()).unwrap(),
        true,
    )
    .unwrap();
    verify_disclosing(&d.f.ring, &own, &d.f.U, b"c", &honest).unwrap();
}

#[test]
fn the_checking_prover_refuses_a_commitment_index_other_than_the_keys() {
    // Key 4's own commitment opens (district 1, its blinding), so every witness check at
    // index 4 passes: the prover itself, not its callers, refuses W folded at 5 for the
    // key at 4, and an index past the ring, checking or not.
    let d = disclosing(16);
    let nonces: Vec<SecretScalar> = (0..d.f.ring.parameters().disclosing_nonce_count())
        .map(|_| SecretScalar::random(&mut rand::rng()))
        .collect();
    let own = d.attribute(1);
    let statement = AttributeStatement::new(&d.f.ring, &own).unwrap();
    let U = d.f.U.compress().to_bytes();
    let tag = tag_for(&d.f.secrets[4], &d.f.U);
    let attempt = |commitment_index: usize, check_witness: bool| {
        prove_with(
            &d.f.ring,
            4,
            &d.f.secrets[4],
            &tag,
            &U,
            b"c",
            Some((&statement, &d.blindings[4], commitment_index)),
            NonceSource::explicit(&nonces, nonces.len()).unwrap(),
            check_witness,
        )
    };
    assert!(attempt(4, true).is_ok());
    assert_eq!(attempt(5, true), Err(Error::WitnessMismatch));
    for check_witness in [true, false] {
        assert_eq!(
            attempt(16, check_witness),
            Err(Error::IndexOutOfRange {
                index: 16,
                ring_size: 16
            })
        );
    }
}

#[test]
fn a_disclosed_value_that_is_not_the_signers_fails_e5_only() {
    let d = disclosing(16);
    // Key 4 is in district 1; claimed as district 2 with its true blinding.
    let nonces: Vec<SecretScalar> = (0..d.f.ring.parameters().disclosing_nonce_count())
        .map(|_| SecretScalar::random(&mut rand::rng()))
        .collect();
    let wrong = d.attribute(2);
    let statement = AttributeStatement::new(&d.f.ring, &wrong).unwrap();
    let U = d.f.U.compress().to_bytes();
    let tag = tag_for(&d.f.secrets[4], &d.f.U);
    let forged = prove_with(
        &d.f.ring,
        4,
        &d.f.secrets[4],
        &tag,
        &U,
        b"c",
        Some((&statement, &d.blindings[4], 4)),
        NonceSource::explicit(&nonces, nonces.len()).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(
        failing_equations_with(&d.f.ring, Some(&wrong), &d.f.U, b"c", &forged),
        ["E5"]
    );
    assert_eq!(
        verify_disclosing(&d.f.ring, &wrong, &d.f.U, b"c", &forged),
        Err(Error::Equation { equation: "E5" })
    );
    // The honest prover refuses it outright.
    assert_eq!(
        sign_disclosing(
            &d.f.ring,
            &wrong,
            4,
            &d.f.secrets[4],
            &d.blindings[4],
            &d.f.U,
            b"c",
            &mut rand::rng()
        ),
        Err(Error::WitnessMismatch)
    );
    // z_b altered: E5 only.
    let mut s = d.sign(4, b"c");
    let right = d.attribute(1);
    if let Some(disclosure) = s.disclosure.as_mut() {
        disclosure.z_b += Scalar::ONE;
    }
    assert_eq!(
        failing_equations_with(&d.f.ring, Some(&right), &d.f.U, b"c", &s),
        ["E5"]
    );
}

#[test]
fn every_public_input_of_a_disclosure_is_bound() {
    let d = disclosing(8);
    let s = d.sign(5, b"c");
    let right = d.attribute(2);
    verify_disclosing(&d.f.ring, &right, &d.f.U, b"c", &s).unwrap();
    // Another disclosed value, other commitments, another context: refused.
    assert!(verify_disclosing(&d.f.ring, &d.attribute(0), &d.f.U, b"c", &s).is_err());
    let other = disclosing(8);
    let foreign = Attribute {
        commitments: &other.commitments,
        base: right.base,
    };
    assert!(verify_disclosing(&d.f.ring, &foreign, &d.f.U, b"c", &s).is_err());
    assert!(verify_disclosing(&d.f.ring, &right, &d.f.U, b"d", &s).is_err());
    // A disclosing signature is not a plain one, and the reverse.
    assert_eq!(
        verify(&d.f.ring, &d.f.U, b"c", &s),
        Err(Error::DisclosureMismatch { disclosing: true })
    );
    let plain = sign_at(&d.f, 5, b"c");
    assert_eq!(
        verify_disclosing(&d.f.ring, &right, &d.f.U, b"c", &plain),
        Err(Error::DisclosureMismatch { disclosing: false })
    );
    // Stripped of its disclosure, the same proof does not verify as a plain signature:
    // the transcripts differ.
    let mut stripped = s.clone();
    stripped.disclosure = None;
    assert!(verify(&d.f.ring, &d.f.U, b"c", &stripped).is_err());
    // Commitments that are not one per key.
    let short = Attribute {
        commitments: &fixture(4).ring,
        base: right.base,
    };
    assert_eq!(
        verify_disclosing(&d.f.ring, &short, &d.f.U, b"c", &s),
        Err(Error::CommitmentRingSize {
            keys: 8,
            commitments: 4
        })
    );
}

#[test]
fn a_disclosing_signature_decodes_strictly() {
    let d = disclosing(16);
    let s = d.sign(3, b"c");
    let p = d.f.ring.parameters();
    let bytes = s.to_bytes();
    let field = |b: &[u8]| match Signature::from_bytes_disclosing(b, p) {
        Err(Error::Decode(e)) => e.field().to_owned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(field(&bytes[..bytes.len() - 1]), "length");
    let mut identity = bytes.clone();
    let w0 = p.signature_len();
    identity[w0..w0 + 32].fill(0);
    assert_eq!(field(&identity), "W[0]");
    let mut big = bytes.clone();
    let z_b = bytes.len() - 32;
    big[z_b..].fill(0xff);
    assert_eq!(field(&big), "z_b");
    // A disclosing signature is too long for the plain decoder, and the reverse.
    assert_eq!(
        match Signature::from_bytes(&bytes, p) {
            Err(Error::Decode(e)) => e.field().to_owned(),
            other => panic!("{other:?}"),
        },
        "length"
    );
    assert_eq!(field(&sign_at(&d.f, 3, b"c").to_bytes()), "length");
}

#[test]
fn a_batch_mixing_disclosures_and_plain_signatures_verifies_and_names_a_bad_one() {
    let d = disclosing(32);
    let mut batch = BatchVerifier::with_commitments(&d.f.ring, &d.commitments, d.f.U);
    let mut items = Vec::new();
    for index in [1, 7, 12, 20, 31] {
        let context = vec![index as u8];
        if index % 2 == 1 {
            let s = d.sign(index, &context);
            batch.push_disclosing(&context, &s, district_base((index % 3) as u32));
            items.push((context, s, Some((index % 3) as u32)));
        } else {
            let s = sign_at(&d.f, index, &context);
            batch.push(&context, &s);
            items.push((context, s, None));
        }
    }
    batch.verify(&mut rand::rng()).unwrap();
    // The same, with signature 1 (index 7, district 1) claimed as district 0, and a
    // disclosing signature in a batch without commitments.
    let mut batch = BatchVerifier::with_commitments(&d.f.ring, &d.commitments, d.f.U);
    for (position, (context, s, district)) in items.iter().enumerate() {
        match district {
            Some(district) => {
                let claimed = if position == 1 { 0 } else { *district };
                batch.push_disclosing(context, s, district_base(claimed));
            }
            None => batch.push(context, s),
        }
    }
    match batch.verify(&mut rand::rng()) {
        Err(Error::Batch { invalid }) => {
            assert_eq!(invalid.len(), 1, "{invalid:?}");
            assert_eq!(invalid[0].0, 1);
        }
        other => panic!("{other:?}"),
    }
    let mut plain = BatchVerifier::new(&d.f.ring, d.f.U);
    plain.push_disclosing(&items[0].0, &items[0].1, district_base(1));
    match plain.verify(&mut rand::rng()) {
        Err(Error::Batch { invalid }) => {
            assert_eq!(
                invalid,
                [(0, Error::DisclosureMismatch { disclosing: true })]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_weighted_e5_without_its_commitment_terms_or_base_is_an_error_not_a_dropped_term() {
    let d = disclosing(16);
    let s = d.sign(4, b"c");
    let p = d.f.ring.parameters();
    let base = district_base(1);
    let xi = random_scalar();
    let e5 = [
        Scalar::ZERO,
        Scalar::ZERO,
        Scalar::ZERO,
        Scalar::ZERO,
        Scalar::ONE,
    ];
    // No commitment coefficients to add the ring's terms to: refused, naming the sizes.
    assert_eq!(
        Shared::new(&p, 0, 0).add(&s, &xi, e5, Some(&base)),
        Err(Error::CommitmentRingSize {
            keys: 16,
            commitments: 0
        })
    );
    // A disclosing signature weighted in E5 with no attribute base.
    assert_eq!(
        Shared::new(&p, 0, 16).add(&s, &xi, e5, None),
        Err(Error::DisclosureMismatch { disclosing: true })
    );
    // Its full statement is taken; E5 left out (zero weight) needs nothing.
    assert_eq!(Shared::new(&p, 0, 16).add(&s, &xi, e5, Some(&base)), Ok(()));
    assert_eq!(
        Shared::new(&p, 0, 0).add(&s, &xi, [Scalar::ZERO; 5], None),
        Ok(())
    );
}

/// Wiped, a signature holds nothing of what it held: every point is the identity (its
/// encoding zeros), every scalar zero, the heap-held X, Y, f (and a disclosure's W)
/// emptied after their elements were overwritten (spec/60 §60.1).
#[test]
fn a_wiped_signature_holds_nothing() {
    use zeroize::Zeroize as _;
    let f = fixture(8);
    let d = disclosing(8);
    for mut s in [sign_at(&f, 3, b"c"), d.sign(2, b"c")] {
        s.zeroize();
        for point in [&s.J, &s.A, &s.B, &s.C, &s.D] {
            assert_eq!(point.as_bytes(), &[0u8; 32]);
            assert_eq!(point.as_ristretto(), &RistrettoPoint::default());
        }
        for scalar in [&s.z_A, &s.z_C, &s.z] {
            assert_eq!(scalar.as_bytes(), &[0u8; 32]);
        }
        assert!(s.X.is_empty() && s.Y.is_empty() && s.f.is_empty());
        assert!(s.disclosure.is_none());
        // What is left to encode: J, A, B, C, D, z_A, z_C, z, all zeros.
        let mut wiped = vec![PROOF_ENCODING_VERSION];
        wiped.extend_from_slice(&[0u8; 8 * 32]);
        assert_eq!(s.to_bytes(), wiped);
    }
}
