//! urne's Triptych and the `triptych` crate (Tari), batched verification at 2^16 keys,
//! measured in the same run (run on one core: `taskset -c 0 cargo bench`).
//! `URNE_TRIPTYCH_BATCH` sets the batch size (default 64). Both batches hold 8 distinct
//! signatures pushed repeatedly: neither verifier caches anything per signature.
//! `URNE_TRIPTYCH_CRATE_SHAPES=4x8` leaves out the triptych crate's (2, 16).
//! `URNE_BENCH_CPU=1` measures this thread's CPU time instead of wall time (Linux, 10 ms
//! ticks over batches of a second or more): on a shared VM, wall time also counts the
//! other processes' turns on the core.
#![allow(missing_docs, non_snake_case, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dalek4::ristretto::{CompressedRistretto as Compressed4, RistrettoPoint as Point4};
use dalek4::scalar::Scalar as Scalar4;
use triptych::Transcript;
use triptych::parameters::TriptychParameters;
use triptych::proof::TriptychProof;
use triptych::statement::{TriptychInputSet, TriptychStatement};
use triptych::witness::TriptychWitness;
use urne_crypto::curve25519_dalek::ristretto::RistrettoPoint;
use urne_crypto::triptych::{BatchVerifier, Ring, Signature, Zeroizing, linking_base, sign};

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

/// Times `routine` on inputs made by `setup` (not timed): wall time, or CPU time under
/// `URNE_BENCH_CPU=1`.
fn measure<I, O>(
    b: &mut criterion::Bencher<'_>,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(I) -> O,
) {
    if std::env::var("URNE_BENCH_CPU").is_ok_and(|v| v == "1") {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let input = setup();
                let start = cpu_time();
                std::hint::black_box(routine(input));
                total += cpu_time() - start;
            }
            total
        });
    } else {
        b.iter_batched(setup, routine, BatchSize::PerIteration);
    }
}

fn compare(c: &mut Criterion) {
    let batch: usize = std::env::var("URNE_TRIPTYCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let size = 1usize << 16;
    let mut rng = rand::rng();
    let secrets: Vec<_> = (0..size)
        .map(|_| *urne_crypto::SecretScalar::random(&mut rng).expose_secret())
        .collect();
    let keys: Vec<RistrettoPoint> = secrets
        .iter()
        .map(|r| urne_crypto::curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * r)
        .collect();
    let ring = Ring::new(keys.clone()).unwrap();
    let U = linking_base(&[5; 32], &[6; 32]);
    let signers: Vec<usize> = (0..DISTINCT).map(|i| i * (size / DISTINCT) + 3).collect();
    let ours: Vec<(Vec<u8>, Vec<u8>)> = signers
        .iter()
        .map(|&l| {
            let context = format!("signature {l}").into_bytes();
            let s = sign(
                &ring,
                l,
                &Zeroizing::new(secrets[l]),
                &U,
                &context,
                &mut rng,
            )
            .unwrap();
            (context, s.to_bytes())
        })
        .collect();

    let M: Vec<Point4> = keys
        .iter()
        .map(|p| Compressed4(p.compress().to_bytes()).decompress().unwrap())
        .collect();
    let input_set = Arc::new(TriptychInputSet::new(&M).unwrap());
    let mut group = c.benchmark_group("triptych 2^16 batched verification");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(batch as u64));
    let p = ring.parameters();
    group.bench_function(format!("urne (n = 4, m = 8), batch of {batch}"), |b| {
        measure(
            b,
            || (),
            |()| {
                let mut verifier = BatchVerifier::new(&ring, U);
                for k in 0..batch {
                    let (context, bytes) = &ours[k % DISTINCT];
                    verifier.push(context, &Signature::from_bytes(bytes, p).unwrap());
                }
                verifier.verify(&mut rand::rng()).unwrap()
            },
        )
    });
    // The triptych crate with its own parameters: (4, 8) as ours, and (2, 16); only the
    // first under `URNE_TRIPTYCH_CRATE_SHAPES=4x8` (a batch of 256 takes them 10 s or more).
    let shapes: &[(u32, u32)] =
        if std::env::var("URNE_TRIPTYCH_CRATE_SHAPES").is_ok_and(|v| v == "4x8") {
            &[(4, 8)]
        } else {
            &[(4, 8), (2, 16)]
        };
    for &(n, m) in shapes {
        let params = Arc::new(TriptychParameters::new(n, m).unwrap());
        let theirs: Vec<(TriptychStatement, TriptychProof)> = signers
            .iter()
            .map(|&l| {
                let witness = TriptychWitness::new(
                    &params,
                    l as u32,
                    &Scalar4::from_canonical_bytes(secrets[l].to_bytes()).unwrap(),
                )
                .unwrap();
                // Their generator G is the basepoint, so our keys are theirs too.
                let statement =
                    TriptychStatement::new(&params, &input_set, &witness.compute_linking_tag())
                        .unwrap();
                let mut transcript = Transcript::new(b"bench");
                let proof =
                    TriptychProof::prove_vartime(&witness, &statement, &mut transcript).unwrap();
                (statement, proof)
            })
            .collect();
        eprintln!(
            "triptych crate (n = {n}, m = {m}): proof {} bytes",
            theirs[0].1.to_bytes().len()
        );
        group.bench_function(
            format!("triptych crate (n = {n}, m = {m}), batch of {batch}"),
            |b| {
                measure(
                    b,
                    || {
                        let statements: Vec<TriptychStatement> =
                            (0..batch).map(|k| theirs[k % DISTINCT].0.clone()).collect();
                        let proofs: Vec<TriptychProof> =
                            (0..batch).map(|k| theirs[k % DISTINCT].1.clone()).collect();
                        let transcripts: Vec<Transcript> =
                            (0..batch).map(|_| Transcript::new(b"bench")).collect();
                        (statements, proofs, transcripts)
                    },
                    |(statements, proofs, mut transcripts)| {
                        TriptychProof::verify_batch(&statements, &proofs, &mut transcripts).unwrap()
                    },
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
