//! Criterion benchmarks of Triptych signatures (spec/08).
//!
//! Run: `cargo bench -p urne-crypto --bench triptych` (one core: `taskset -c 0`).
//! `URNE_TRIPTYCH_BATCH` sets the batch size of the batched verification (default 64).
//! Verification starts from bytes, as a verifier does, so decoding is in every figure.
//! Signing a batch of 2^16 signatures would take minutes, so the batch holds
//! `DISTINCT` distinct signatures, each pushed several times: the verifier's work per
//! signature does not depend on whether two are equal (nothing is cached per signature).
//! `URNE_BENCH_CPU=1` times everything in this thread's CPU time instead of wall time
//! (Linux, 10 ms ticks): on a shared VM wall time also counts other processes' turns.
#![allow(missing_docs, non_snake_case, clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::scalar::Scalar;
use urne_crypto::SecretScalar;
use urne_crypto::triptych::{BatchVerifier, Ring, Signature, linking_base, sign, verify};
use zeroize::Zeroizing;

const DISTINCT: usize = 8;

/// CPU time of this thread (utime + stime of /proc/thread-self/stat, 10 ms ticks).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

struct Setup {
    ring: Ring,
    secrets: Vec<(usize, Zeroizing<Scalar>)>,
    U: curve25519_dalek::ristretto::RistrettoPoint,
}

/// A ring of 2^log2 random keys, of which `DISTINCT` are the benchmark's signers.
fn setup(log2: u32) -> Setup {
    let size = 1usize << log2;
    let mut rng = rand::rng();
    let mut secrets = Vec::new();
    let keys = (0..size)
        .map(|k| {
            let r = Zeroizing::new(*SecretScalar::random(&mut rng).expose_secret());
            let key = RISTRETTO_BASEPOINT_TABLE * &*r;
            if k % (size / DISTINCT).max(1) == 0 && secrets.len() < DISTINCT {
                secrets.push((k, r));
            }
            key
        })
        .collect();
    Setup {
        ring: Ring::new(keys).expect("ring"),
        secrets,
        U: linking_base(&[1; 32], &[2; 32]),
    }
}

/// Times `routine`: wall time, or this thread's CPU time under `URNE_BENCH_CPU=1`.
fn time<O>(b: &mut criterion::Bencher<'_>, mut routine: impl FnMut() -> O) {
    if std::env::var("URNE_BENCH_CPU").is_ok_and(|v| v == "1") {
        b.iter_custom(|iters| {
            let start = cpu_time();
            for _ in 0..iters {
                black_box(routine());
            }
            cpu_time() - start
        })
    } else {
        b.iter_batched(|| (), |()| routine(), BatchSize::PerIteration)
    }
}

fn context(i: usize) -> Vec<u8> {
    format!("petition 1, bucket 0, text hash …, one-time key {i}").into_bytes()
}

#[allow(non_snake_case)]
fn triptych(c: &mut Criterion) {
    let batch: usize = std::env::var("URNE_TRIPTYCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    for log2 in [12u32, 16] {
        let s = setup(log2);
        let mut group = c.benchmark_group(format!("triptych 2^{log2}"));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(if log2 == 16 { 30 } else { 10 }));
        let (index, secret) = &s.secrets[0];
        group.bench_function("sign", |b| {
            time(b, || {
                sign(&s.ring, *index, secret, &s.U, &context(0), &mut rand::rng()).expect("sign")
            })
        });
        let signatures: Vec<(Vec<u8>, Vec<u8>)> = s
            .secrets
            .iter()
            .enumerate()
            .map(|(i, (index, secret))| {
                let sig = sign(&s.ring, *index, secret, &s.U, &context(i), &mut rand::rng())
                    .expect("sign");
                (context(i), sig.to_bytes())
            })
            .collect();
        eprintln!(
            "triptych 2^{log2}: signature {} bytes, n = {}, m = {}",
            signatures[0].1.len(),
            s.ring.parameters().n(),
            s.ring.parameters().m()
        );
        let p = s.ring.parameters();
        group.bench_function("verify one (decode + per-equation check)", |b| {
            time(b, || {
                let sig = Signature::from_bytes(&signatures[0].1, p).expect("decode");
                verify(&s.ring, &s.U, &signatures[0].0, &sig).expect("valid");
            })
        });
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch of {batch} (per element)"), |b| {
            let run = || {
                let mut verifier = BatchVerifier::new(&s.ring, s.U);
                for k in 0..batch {
                    let (ctx, bytes) = &signatures[k % signatures.len()];
                    let sig = Signature::from_bytes(bytes, p).expect("decode");
                    verifier.push(ctx, &sig);
                }
                black_box(verifier.verify(&mut rand::rng())).expect("valid batch")
            };
            time(b, run)
        });
        group.finish();
    }
}

criterion_group!(benches, triptych);
criterion_main!(benches);
