//! urne's Triptych and the `triptych` crate (Tari) prove the same relation, M[l] = r·G and
//! r·J = U: for one ring, one U and one witness, both compute the same tag, each accepts
//! its own signature for that statement, and both refuse a witness that is not in the
//! ring. (Their transcripts and commitment generators differ, so signatures are not
//! interchangeable; the relation and the tag are what must agree.)
#![allow(non_snake_case, clippy::unwrap_used)]

use std::sync::Arc;

use dalek4::ristretto::{CompressedRistretto as Compressed4, RistrettoPoint as Point4};
use dalek4::scalar::Scalar as Scalar4;
use triptych::Transcript;
use triptych::parameters::TriptychParameters;
use triptych::proof::TriptychProof;
use triptych::statement::{TriptychInputSet, TriptychStatement};
use triptych::witness::TriptychWitness;
use urne_crypto::curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use urne_crypto::curve25519_dalek::scalar::Scalar;
use urne_crypto::triptych::{Ring, Zeroizing, linking_base, sign, verify};

fn to4(p: &RistrettoPoint) -> Point4 {
    Compressed4(p.compress().to_bytes()).decompress().unwrap()
}

fn scalar4(s: &Scalar) -> Scalar4 {
    Scalar4::from_canonical_bytes(s.to_bytes()).unwrap()
}

fn check(log2: u32, index: usize) {
    let mut rng = rand::rng();
    let size = 1usize << log2;
    let secrets: Vec<Scalar> = (0..size)
        .map(|_| *urne_crypto::SecretScalar::random(&mut rng).expose_secret())
        .collect();
    let keys: Vec<RistrettoPoint> = secrets
        .iter()
        .map(|r| urne_crypto::curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * r)
        .collect();
    let ring = Ring::new(keys.clone()).unwrap();
    let U = linking_base(&[5; 32], &[6; 32]);
    let r = Zeroizing::new(secrets[index]);
    let ours = sign(&ring, index, &r, &U, b"crosscheck", &mut rng).unwrap();
    verify(&ring, &U, b"crosscheck", &ours).unwrap();

    // The same statement for the triptych crate: our G and U, our ring, our (n, m).
    let p = ring.parameters();
    let params = Arc::new(
        TriptychParameters::new_with_generators(
            p.n() as u32,
            p.m() as u32,
            &dalek4::constants::RISTRETTO_BASEPOINT_POINT,
            &to4(&U),
        )
        .unwrap(),
    );
    let M: Vec<Point4> = keys.iter().map(to4).collect();
    let input_set = Arc::new(TriptychInputSet::new(&M).unwrap());
    let witness = TriptychWitness::new(&params, index as u32, &scalar4(&secrets[index])).unwrap();
    let J = witness.compute_linking_tag();
    assert_eq!(
        J.compress().to_bytes(),
        ours.tag().to_bytes(),
        "both compute J = r⁻¹·U"
    );
    assert_eq!(
        ours.tag(),
        CompressedRistretto((U * secrets[index].invert()).compress().to_bytes())
    );
    let statement = TriptychStatement::new(&params, &input_set, &J).unwrap();
    let mut transcript = Transcript::new(b"urne crosscheck");
    let theirs = TriptychProof::prove_vartime(&witness, &statement, &mut transcript).unwrap();
    let mut transcript = Transcript::new(b"urne crosscheck");
    theirs.verify(&statement, &mut transcript).unwrap();

    // A secret that is not the key at the index: both provers refuse it.
    let stranger = *urne_crypto::SecretScalar::random(&mut rng).expose_secret();
    assert!(sign(&ring, index, &Zeroizing::new(stranger), &U, b"x", &mut rng).is_err());
    let wrong = TriptychWitness::new(&params, index as u32, &scalar4(&stranger)).unwrap();
    let wrong_statement =
        TriptychStatement::new(&params, &input_set, &wrong.compute_linking_tag()).unwrap();
    let mut transcript = Transcript::new(b"urne crosscheck");
    assert!(TriptychProof::prove_vartime(&wrong, &wrong_statement, &mut transcript).is_err());
}

#[test]
fn both_implementations_agree_on_the_relation_and_the_tag() {
    // The triptych crate needs m ≥ 2: 2^4 (n = 4, m = 2), 2^5 (n = 2, m = 5), 2^8.
    check(4, 11);
    check(5, 0);
    check(8, 255);
}
