//! Criterion benchmarks of urne-crypto (figures in ../BENCHMARKS.md).
//!
//! Run: `cargo bench -p urne-crypto --bench crypto`. Verification benches start from
//! bytes, as a verifier does, so decoding is part of every verification figure.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar as DalekScalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use urne_crypto::dlog::DiscreteLogTable;
use urne_crypto::proofs::{BitRangeProof, RangeProof, ValueRange};
use urne_crypto::{BatchVerifier, Ciphertext, ContextHash, EncryptionKey, ProofContext, SecretKey};

const BATCH: usize = 1000;

fn setup() -> (EncryptionKey, ContextHash) {
    let key = EncryptionKey::new(SecretKey::generate(&mut rand::rng()).public_key());
    (key, ContextHash([42; 32]))
}

/// 0/1 selections as a verifier receives them: (ciphertext bytes, proof bytes).
fn selections(key: &EncryptionKey, ctx: &ProofContext<'_>, n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let range = ValueRange::new(0, 1).expect("valid");
    (0..n)
        .map(|i| {
            let (ct, proof, _) =
                RangeProof::encrypt_and_prove(ctx, key, (i % 2) as u64, range, &mut rand::rng())
                    .expect("prove");
            (ct.to_bytes().to_vec(), proof.to_bytes())
        })
        .collect()
}

fn verify_one_from_bytes(key: &EncryptionKey, ctx: &ProofContext<'_>, ct: &[u8], proof: &[u8]) {
    let range = ValueRange::new(0, 1).expect("valid");
    let ct = Ciphertext::decode(ct).expect("ciphertext");
    let proof = RangeProof::decode(proof).expect("proof");
    proof
        .verify(ctx, key.public_key(), &ct, range)
        .expect("valid proof");
}

fn zero_one(c: &mut Criterion) {
    let (key, hash) = setup();
    let ctx = ProofContext::new(&hash, b"contest 1 option 1");
    let range = ValueRange::new(0, 1).expect("valid");
    let mut group = c.benchmark_group("selection 0/1");
    group.bench_function("encrypt + prove", |b| {
        b.iter(|| {
            RangeProof::encrypt_and_prove(&ctx, &key, 1, range, &mut rand::rng()).expect("prove")
        })
    });
    let items = selections(&key, &ctx, BATCH);
    group.bench_function("verify one (decode + per-equation check)", |b| {
        b.iter(|| verify_one_from_bytes(&key, &ctx, &items[0].0, &items[0].1))
    });
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("verify batch of 1000 (decode + batch)", |b| {
        b.iter(|| {
            let mut batch = BatchVerifier::with_capacity(BATCH);
            for (i, (ct, proof)) in items.iter().enumerate() {
                let ct = Ciphertext::decode(ct).expect("ciphertext");
                let proof = RangeProof::decode(proof).expect("proof");
                batch.push(i, proof.relations(&ctx, key.public_key(), &ct, range));
            }
            batch.verify(&mut rand::rng()).expect("valid batch")
        })
    });
    group.bench_function("verify 1000 one by one", |b| {
        b.iter(|| {
            for (ct, proof) in &items {
                verify_one_from_bytes(&key, &ctx, ct, proof);
            }
        })
    });
    group.finish();
}

fn wider_ranges(c: &mut Criterion) {
    let (key, hash) = setup();
    let ctx = ProofContext::new(&hash, b"");
    let mut group = c.benchmark_group("ranges");
    let r010 = ValueRange::new(0, 10).expect("valid");
    group.bench_function("[0,10] encrypt + prove", |b| {
        b.iter(|| {
            RangeProof::encrypt_and_prove(&ctx, &key, 7, r010, &mut rand::rng()).expect("prove")
        })
    });
    let (ct, proof, _) =
        RangeProof::encrypt_and_prove(&ctx, &key, 7, r010, &mut rand::rng()).expect("prove");
    group.bench_function("[0,10] verify", |b| {
        b.iter(|| {
            proof
                .verify(&ctx, key.public_key(), &ct, r010)
                .expect("valid")
        })
    });
    let (ct, opening) = key.encrypt(40_000, &mut rand::rng());
    group.bench_function("[0,2^16) bits prove", |b| {
        b.iter(|| {
            BitRangeProof::prove(&ctx, &key, &ct, &opening, 16, &mut rand::rng()).expect("prove")
        })
    });
    let proof =
        BitRangeProof::prove(&ctx, &key, &ct, &opening, 16, &mut rand::rng()).expect("prove");
    group.bench_function("[0,2^16) bits verify", |b| {
        b.iter(|| {
            proof
                .verify(&ctx, key.public_key(), &ct, 16)
                .expect("valid")
        })
    });
    group.finish();
}

fn discrete_log(c: &mut Criterion) {
    let mut group = c.benchmark_group("discrete log");
    group.sample_size(10);
    group.bench_function("table for 10^7", |b| {
        b.iter(|| DiscreteLogTable::new(black_box(10_000_000)).unwrap())
    });
    let table = DiscreteLogTable::new(10_000_000).unwrap();
    let worst = RistrettoPoint::mul_base(&DalekScalar::from(9_999_999u64));
    group.bench_function("solve 9,999,999 (worst case, bound 10^7)", |b| {
        b.iter(|| assert_eq!(table.solve(black_box(&worst)), Some(9_999_999)))
    });
    group.finish();
}

fn primitives(c: &mut Criterion) {
    let mut group = c.benchmark_group("primitives");
    let n = 4096;
    let points: Vec<RistrettoPoint> = (0..n)
        .map(|_| RistrettoPoint::random(&mut rand::rng()))
        .collect();
    let scalars: Vec<DalekScalar> = (0..n)
        .map(|_| DalekScalar::random(&mut rand::rng()))
        .collect();
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("vartime MSM, 4096 points", |b| {
        b.iter(|| RistrettoPoint::vartime_multiscalar_mul(&scalars, &points))
    });
    group.throughput(Throughput::Elements(1));
    let encoding: CompressedRistretto = points[0].compress();
    group.bench_function("point decompression", |b| {
        b.iter(|| black_box(encoding).decompress())
    });
    group.bench_function("point compression", |b| {
        b.iter(|| black_box(points[0]).compress())
    });
    group.bench_function("variable-base scalar mul (constant time)", |b| {
        b.iter_batched(|| scalars[1], |s| points[1] * s, BatchSize::SmallInput)
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = zero_one, wider_ranges, discrete_log, primitives }
criterion_main!(benches);
