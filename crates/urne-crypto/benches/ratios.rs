//! The two ratio targets, measured so that machine noise cancels: each round
//! times, back to back, batched verification of 1,000 0/1 selections, the same 1,000
//! verified one by one, a 4,096-point MSM and 4,096 decompressions, and computes the
//! ratios from that round alone. The report gives the median round and the spread.
//!
//! Run: `cargo bench -p urne-crypto --bench ratios` (ROUNDS=n to change the 15 rounds).
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use urne_crypto::proofs::{RangeProof, ValueRange};
use urne_crypto::{BatchVerifier, Ciphertext, ContextHash, EncryptionKey, ProofContext, SecretKey};

const PROOFS: usize = 1000;
const MSM_POINTS: usize = 4096;
/// Points a 0/1 selection adds to the MSM (α, β, A₀, B₀, A₁, B₁) and points decoded
/// (the same six: the ciphertext's two, the proof's four commitments).
const POINTS_PER_PROOF: f64 = 6.0;
const DECODED_PER_PROOF: f64 = 6.0;

fn seconds(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("ratios: benchmark");
        return;
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let key = EncryptionKey::new(SecretKey::generate(&mut rand::rng()).public_key());
    let hash = ContextHash([9; 32]);
    let ctx = ProofContext::new(&hash, b"contest 1 option 1");
    let range = ValueRange::new(0, 1).unwrap();
    let items: Vec<([u8; 64], Vec<u8>)> = (0..PROOFS)
        .map(|i| {
            let (ct, proof, _) =
                RangeProof::encrypt_and_prove(&ctx, &key, (i % 2) as u64, range, &mut rand::rng())
                    .unwrap();
            (ct.to_bytes(), proof.to_bytes())
        })
        .collect();
    let points: Vec<RistrettoPoint> = (0..MSM_POINTS)
        .map(|_| RistrettoPoint::random(&mut rand::rng()))
        .collect();
    let scalars: Vec<DalekScalar> = (0..MSM_POINTS)
        .map(|_| DalekScalar::random(&mut rand::rng()))
        .collect();
    let encodings: Vec<CompressedRistretto> = points.iter().map(|p| p.compress()).collect();

    let batch = || {
        let mut batch = BatchVerifier::with_capacity(PROOFS);
        for (i, (ct, proof)) in items.iter().enumerate() {
            let ct = Ciphertext::decode(ct).unwrap();
            let proof = RangeProof::decode(proof).unwrap();
            batch.push(i, proof.relations(&ctx, key.public_key(), &ct, range));
        }
        batch.verify(&mut rand::rng()).unwrap();
    };
    let one_by_one = || {
        for (ct, proof) in &items {
            let ct = Ciphertext::decode(ct).unwrap();
            let proof = RangeProof::decode(proof).unwrap();
            proof.verify(&ctx, key.public_key(), &ct, range).unwrap();
        }
    };
    batch();
    one_by_one();

    let mut speedups = Vec::new();
    let mut over_floor = Vec::new();
    let mut batched_us = Vec::new();
    let mut single_us = Vec::new();
    let mut floor_us = Vec::new();
    for _ in 0..rounds {
        let t_batch = seconds(batch) / PROOFS as f64;
        let t_single = seconds(one_by_one) / PROOFS as f64;
        let t_point = seconds(|| {
            black_box(RistrettoPoint::vartime_multiscalar_mul(&scalars, &points));
        }) / MSM_POINTS as f64;
        let t_decompress = seconds(|| {
            for e in &encodings {
                black_box(e.decompress());
            }
        }) / MSM_POINTS as f64;
        let floor = POINTS_PER_PROOF * t_point + DECODED_PER_PROOF * t_decompress;
        speedups.push(t_single / t_batch);
        over_floor.push(t_batch / floor);
        batched_us.push(t_batch * 1e6);
        single_us.push(t_single * 1e6);
        floor_us.push(floor * 1e6);
    }
    let spread = |v: &[f64]| {
        let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = v.iter().cloned().fold(0.0, f64::max);
        format!("[{lo:.2} .. {hi:.2}]")
    };
    println!("{rounds} rounds of 1,000 0/1 selections (median round, [min .. max] over rounds)");
    println!("  batched per proof      {:8.1} µs", median(batched_us));
    println!("  one by one per proof   {:8.1} µs", median(single_us));
    println!(
        "  floor per proof        {:8.1} µs  (6 MSM points at 4,096 + 6 decompressions)",
        median(floor_us)
    );
    println!(
        "  speed-up, batched      {:8.2} x   {}   target >= 3",
        median(speedups.clone()),
        spread(&speedups)
    );
    println!(
        "  batched / floor        {:8.2} x   {}   target <= 1.5",
        median(over_floor.clone()),
        spread(&over_floor)
    );
}
